import type * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import { FloatAttr, GraphBuilder } from './graph-builder';
import { type Op, type Pads2d, type TensorRef, onnxPads, samePads } from './ops';

/** The forward graph of a LayersModel, written into a GraphBuilder. */
export interface ForwardGraph {
  /** NHWC float input, as the card's preprocessing produces it. */
  input: string;
  inputShape: [height: number, width: number, channels: number];
  /** The class scores before softmax (what Grad-CAM++ differentiates). */
  logits: TensorRef;
  /** The model's own output. */
  probabilities: TensorRef;
  /** Every primitive operation, in execution order. */
  tape: Op[];
  /** Keras layer name (nested models flattened) -> its post-activation output. */
  layerOutputs: Map<string, TensorRef>;
}

// tfjs keeps the graph walk (nodesByDepth, Node) out of its public types.
type AnyLayer = any;
type SymbolicTensor = { id: number; shape: Array<number | null> };
type GraphNode = { outboundLayer: AnyLayer; inputTensors: SymbolicTensor[]; outputTensors: SymbolicTensor[] };

const IDENTITY_LAYERS = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);

function unsupported(layer: AnyLayer, why = 'is not supported by the ONNX exporter'): XrayError {
  return new XrayError('MODEL_INVALID', `Layer '${layer.name}' (${layer.getClassName()}) ${why}.`);
}

function pair(value: number | number[] | undefined | null, fallback: number): [number, number] {
  if (value === undefined || value === null) return [fallback, fallback];
  return typeof value === 'number' ? [value, value] : [value[0], value[1] ?? value[0]];
}

/** [null, H, W, C] or [null, F] -> [C, H, W] or [F]. */
function onnxShape(layer: AnyLayer, shape: Array<number | null>): number[] {
  const dims = shape.slice(1);
  if (dims.some((d) => d === null))
    throw unsupported(layer, 'has a dynamic shape (the exporter needs a fixed input size)');
  const d = dims as number[];
  if (d.length === 3) return [d[2], d[0], d[1]];
  if (d.length === 1) return d;
  throw unsupported(layer, `has rank-${d.length + 1} outputs (only images and feature vectors are supported)`);
}

function weights(layer: AnyLayer): Float32Array[] {
  return (layer.getWeights() as tf.Tensor[]).map((w) => w.dataSync() as Float32Array);
}

/** Keras conv kernel [kh, kw, cin, cout] -> ONNX [cout, cin, kh, kw]. */
function convKernel(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/** Keras depthwise kernel [kh, kw, cin, mult] -> ONNX grouped [cin * mult, 1, kh, kw]. */
function depthwiseKernel(k: Float32Array, kh: number, kw: number, cin: number, mult: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < cin; c++)
        for (let m = 0; m < mult; m++) out[((c * mult + m) * kh + y) * kw + x] = k[((y * kw + x) * cin + c) * mult + m];
  return out;
}

/** Converts Keras layers into ONNX nodes (NCHW inside), recording the tape for Grad-CAM++. */
class ForwardConverter {
  readonly tape: Op[] = [];
  readonly layerOutputs = new Map<string, TensorRef>();

  constructor(private readonly g: GraphBuilder) {}

  /** Runs a (possibly nested) model's nodes in depth order on the given inputs. */
  container(model: AnyLayer, inputs: TensorRef[]): TensorRef[] {
    const values = new Map<number, TensorRef>();
    (model.inputs as SymbolicTensor[]).forEach((t, i) => values.set(t.id, inputs[i]));
    const depths = Object.keys(model.nodesByDepth)
      .map(Number)
      .sort((a, b) => b - a);
    for (const depth of depths) {
      for (const node of model.nodesByDepth[depth] as GraphNode[]) {
        const layer = node.outboundLayer;
        if (layer.getClassName() === 'InputLayer') continue;
        const ins = node.inputTensors.map((t) => {
          const v = values.get(t.id);
          if (!v) throw unsupported(layer, 'has an input the exporter could not resolve');
          return v;
        });
        const outs = layer.nodesByDepth ? this.container(layer, ins) : [this.layer(layer, ins, node.outputTensors[0])];
        node.outputTensors.forEach((t, i) => values.set(t.id, outs[i]));
        if (!this.layerOutputs.has(layer.name)) this.layerOutputs.set(layer.name, outs[0]);
      }
    }
    return (model.outputs as SymbolicTensor[]).map((t) => {
      const v = values.get(t.id);
      if (!v) throw new XrayError('MODEL_INVALID', `The output of '${model.name}' is not reachable from its inputs.`);
      return v;
    });
  }

  private ref(hint: string, shape: number[]): TensorRef {
    return { name: this.g.name(hint), shape };
  }

  private layer(layer: AnyLayer, xs: TensorRef[], output: SymbolicTensor): TensorRef {
    const cls: string = layer.getClassName();
    const config = layer.getConfig();
    const x = xs[0];
    const outShape = () => onnxShape(layer, output.shape);
    if (config.dataFormat && config.dataFormat !== 'channelsLast')
      throw unsupported(layer, 'uses channels-first data (only channels-last is supported)');
    if (IDENTITY_LAYERS.has(cls)) return x;
    switch (cls) {
      case 'Conv2D':
      case 'DepthwiseConv2D':
        return this.activation(layer, config.activation, this.conv(layer, cls === 'DepthwiseConv2D', x, outShape()));
      case 'BatchNormalization':
        return this.batchNorm(layer, x);
      case 'ReLU':
        if (config.maxValue !== null && config.maxValue !== undefined) return this.relu(layer, x, config.maxValue);
        return this.relu(layer, x);
      case 'Activation':
        return this.activation(layer, config.activation, x);
      case 'Softmax':
        if (x.shape.length !== 1 || ![-1, 1].includes(config.axis ?? -1))
          throw unsupported(layer, 'is a softmax over image axes');
        return this.softmax(layer, x);
      case 'ZeroPadding2D':
        return this.pad(layer, x, outShape());
      case 'MaxPooling2D':
      case 'AveragePooling2D':
        return this.pool(layer, cls === 'MaxPooling2D' ? 'maxpool' : 'avgpool', x, outShape());
      case 'GlobalAveragePooling2D':
        if (config.keepDims) throw unsupported(layer, 'keeps dims (not supported)');
        return this.globalAveragePool(layer, x);
      case 'Concatenate':
        return this.concat(layer, xs, config.axis ?? -1, outShape());
      case 'Add':
        return this.add(layer, xs);
      case 'Dense':
        if (x.shape.length !== 1) throw unsupported(layer, 'is applied to an image tensor (only to feature vectors)');
        return this.activation(layer, config.activation, this.dense(layer, x, outShape()));
      case 'Flatten':
        return this.flatten(layer, x);
      case 'Reshape': {
        const target: number[] = config.targetShape;
        if (target.length !== 1) throw unsupported(layer, 'reshapes to more than one dimension (not supported)');
        return this.flatten(layer, x);
      }
      default:
        throw unsupported(layer);
    }
  }

  private activation(layer: AnyLayer, name: string | undefined, x: TensorRef): TensorRef {
    switch (name ?? 'linear') {
      case 'linear':
        return x;
      case 'relu':
        return this.relu(layer, x);
      case 'relu6':
        return this.relu(layer, x, 6);
      case 'softmax':
        if (x.shape.length !== 1) throw unsupported(layer, 'applies softmax over image axes');
        return this.softmax(layer, x);
      default:
        throw unsupported(layer, `uses activation '${name}' (supported: linear, relu, relu6, softmax)`);
    }
  }

  private conv(layer: AnyLayer, depthwise: boolean, x: TensorRef, shape: number[]): TensorRef {
    const config = layer.getConfig();
    const [kh, kw] = pair(config.kernelSize, 1);
    const strides = pair(config.strides, 1);
    const dilations = pair(config.dilationRate, 1);
    const [cin, h, w] = x.shape;
    const [kernel, bias] = weights(layer);
    const cout = shape[0];
    const onnxKernel = depthwise
      ? depthwiseKernel(kernel, kh, kw, cin, cout / cin)
      : convKernel(kernel, kh, kw, cin, cout);
    const pads = this.pads(layer, config.padding, [h, w], [kh, kw], strides, dilations);
    const group = depthwise ? cin : 1;
    const weight = this.g.floats(`${layer.name}/kernel`, onnxKernel, [cout, cin / group, kh, kw]);
    const inputs = [x.name, weight];
    if (bias) inputs.push(this.g.floats(`${layer.name}/bias`, bias, [cout]));
    const y = this.ref(layer.name, shape);
    this.g.emit('Conv', inputs, [y.name], {
      kernel_shape: [kh, kw],
      strides,
      dilations,
      group,
      pads: onnxPads(pads),
    });
    this.tape.push({
      kind: 'conv',
      layer: layer.name,
      x,
      y,
      weight,
      kernel: [kh, kw],
      strides,
      dilations,
      group,
      pads,
    });
    return y;
  }

  private pads(
    layer: AnyLayer,
    padding: string,
    size: [number, number],
    kernel: [number, number],
    strides: [number, number],
    dilations: [number, number],
  ): Pads2d {
    if (padding === 'valid') return { top: 0, left: 0, bottom: 0, right: 0 };
    if (padding !== 'same') throw unsupported(layer, `uses padding '${padding}'`);
    const [top, bottom] = samePads(size[0], kernel[0], strides[0], dilations[0]);
    const [left, right] = samePads(size[1], kernel[1], strides[1], dilations[1]);
    return { top, left, bottom, right };
  }

  private batchNorm(layer: AnyLayer, x: TensorRef): TensorRef {
    const config = layer.getConfig();
    // Keras 2 files may store the axis as a one-element list.
    const axis = Array.isArray(config.axis) ? (config.axis.length === 1 ? config.axis[0] : NaN) : (config.axis ?? -1);
    const rank = x.shape.length + 1;
    if (!(axis === -1 || axis === rank - 1))
      throw unsupported(layer, `normalises axis ${axis} (only the channel axis is supported)`);
    const w = weights(layer);
    const channels = x.shape[0];
    // Keras order: gamma (if scale), beta (if center), moving mean, moving variance.
    let next = 0;
    const gamma = config.scale === false ? new Float32Array(channels).fill(1) : w[next++];
    const beta = config.center === false ? new Float32Array(channels) : w[next++];
    const [mean, variance] = [w[next], w[next + 1]];
    const epsilon: number = config.epsilon ?? 1e-3;
    const scale = gamma.map((gm, c) => gm / Math.sqrt(variance[c] + epsilon));
    const y = this.ref(layer.name, x.shape);
    this.g.emit(
      'BatchNormalization',
      [
        x.name,
        this.g.floats(`${layer.name}/gamma`, gamma, [channels]),
        this.g.floats(`${layer.name}/beta`, beta, [channels]),
        this.g.floats(`${layer.name}/moving_mean`, mean, [channels]),
        this.g.floats(`${layer.name}/moving_variance`, variance, [channels]),
      ],
      [y.name],
      { epsilon: new FloatAttr(epsilon) },
    );
    this.tape.push({ kind: 'batchnorm', layer: layer.name, x, y, scale });
    return y;
  }

  private relu(layer: AnyLayer, x: TensorRef, max?: number): TensorRef {
    const y = this.ref(`${layer.name}/relu`, x.shape);
    if (max === undefined) this.g.emit('Relu', [x.name], [y.name]);
    else this.g.emit('Clip', [x.name, this.g.scalar(0), this.g.scalar(max)], [y.name]);
    this.tape.push({ kind: 'relu', layer: layer.name, x, y, max });
    return y;
  }

  private softmax(layer: AnyLayer, x: TensorRef): TensorRef {
    const y = this.ref(`${layer.name}/softmax`, x.shape);
    this.g.emit('Softmax', [x.name], [y.name], { axis: -1 });
    this.tape.push({ kind: 'softmax', layer: layer.name, x, y });
    return y;
  }

  private pad(layer: AnyLayer, x: TensorRef, shape: number[]): TensorRef {
    const p = layer.getConfig().padding;
    const [[top, bottom], [left, right]] =
      typeof p === 'number'
        ? [
            [p, p],
            [p, p],
          ]
        : (p as number[][]);
    const pads = { top, left, bottom, right };
    const y = this.ref(layer.name, shape);
    this.g.emit('Pad', [x.name, this.g.ints('pads', [0, 0, top, left, 0, 0, bottom, right])], [y.name]);
    this.tape.push({ kind: 'pad', layer: layer.name, x, y, pads });
    return y;
  }

  private pool(layer: AnyLayer, kind: 'maxpool' | 'avgpool', x: TensorRef, shape: number[]): TensorRef {
    const config = layer.getConfig();
    const kernel = pair(config.poolSize, 2);
    const strides = config.strides ? pair(config.strides, 1) : kernel;
    const pads = this.pads(layer, config.padding, [x.shape[1], x.shape[2]], kernel, strides, [1, 1]);
    const y = this.ref(layer.name, shape);
    const attrs = { kernel_shape: kernel, strides, pads: onnxPads(pads) };
    // AveragePool excludes the padding from the count, as TF does for 'same'.
    this.g.emit(
      kind === 'maxpool' ? 'MaxPool' : 'AveragePool',
      [x.name],
      [y.name],
      kind === 'avgpool' ? { ...attrs, count_include_pad: 0 } : attrs,
    );
    this.tape.push({ kind, layer: layer.name, x, y, kernel, strides, pads });
    return y;
  }

  private globalAveragePool(layer: AnyLayer, x: TensorRef): TensorRef {
    if (x.shape.length !== 3) throw unsupported(layer, 'is applied to a non-image tensor');
    const pooled = this.g.node('GlobalAveragePool', [x.name], `${layer.name}/pool`);
    const y = this.ref(layer.name, [x.shape[0]]);
    this.g.emit('Flatten', [pooled], [y.name], { axis: 1 });
    this.tape.push({ kind: 'gap', layer: layer.name, x, y });
    return y;
  }

  private concat(layer: AnyLayer, xs: TensorRef[], kerasAxis: number, shape: number[]): TensorRef {
    const rank = xs[0].shape.length + 1;
    const axisNhwc = kerasAxis < 0 ? kerasAxis + rank : kerasAxis;
    // NHWC axis -> NCHW axis.
    const axis = rank === 4 ? [0, 2, 3, 1][axisNhwc] : axisNhwc;
    if (axis === 0) throw unsupported(layer, 'concatenates along the batch axis');
    const y = this.ref(layer.name, shape);
    this.g.emit(
      'Concat',
      xs.map((t) => t.name),
      [y.name],
      { axis },
    );
    this.tape.push({ kind: 'concat', layer: layer.name, xs, y, axis });
    return y;
  }

  private add(layer: AnyLayer, xs: TensorRef[]): TensorRef {
    const y = this.ref(layer.name, xs[0].shape);
    this.g.emit(
      'Sum',
      xs.map((t) => t.name),
      [y.name],
    );
    this.tape.push({ kind: 'add', layer: layer.name, xs, y });
    return y;
  }

  private dense(layer: AnyLayer, x: TensorRef, shape: number[]): TensorRef {
    const [kernel, bias] = weights(layer);
    const weight = this.g.floats(`${layer.name}/kernel`, kernel, [x.shape[0], shape[0]]);
    const y = this.ref(layer.name, shape);
    if (bias) this.g.emit('Gemm', [x.name, weight, this.g.floats(`${layer.name}/bias`, bias, [shape[0]])], [y.name]);
    else this.g.emit('MatMul', [x.name, weight], [y.name]);
    this.tape.push({ kind: 'dense', layer: layer.name, x, y, weight });
    return y;
  }

  private flatten(layer: AnyLayer, x: TensorRef): TensorRef {
    if (x.shape.length === 1) return x;
    // Keras flattens in NHWC order.
    const nhwc = this.g.node('Transpose', [x.name], `${layer.name}/nhwc`, { perm: [0, 2, 3, 1] });
    const y = this.ref(layer.name, [x.shape.reduce((a, b) => a * b, 1)]);
    this.g.emit('Flatten', [nhwc], [y.name], { axis: 1 });
    this.tape.push({ kind: 'flatten', layer: layer.name, x, y });
    return y;
  }
}

/** Writes the forward pass of `model` into `g`: NHWC input 'input', transposed once to NCHW. */
export function buildForward(g: GraphBuilder, model: tf.LayersModel): ForwardGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new XrayError(
      'MODEL_INVALID',
      `The ONNX exporter needs a model with one input and one output (this one has ${model.inputs.length} and ${model.outputs.length}).`,
    );
  }
  const [, height, width, channels] = model.inputs[0].shape;
  if (!height || !width || !channels)
    throw new XrayError('MODEL_INVALID', 'The ONNX exporter needs a fixed input size.');
  const input = g.input('input', ['N', height, width, channels]);
  const nchw: TensorRef = {
    name: g.node('Transpose', [input], 'input_nchw', { perm: [0, 3, 1, 2] }),
    shape: [channels, height, width],
  };
  const converter = new ForwardConverter(g);
  const [output] = converter.container(model, [nchw]);
  if (output.shape.length !== 1)
    throw new XrayError('MODEL_INVALID', 'The model output must be a vector of class scores.');
  const last = converter.tape.find((op) => op.y.name === output.name);
  const logits = last?.kind === 'softmax' ? last.x : output;
  return {
    input,
    inputShape: [height, width, channels],
    logits,
    probabilities: output,
    tape: converter.tape,
    layerOutputs: converter.layerOutputs,
  };
}
