import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import { tailOp, type TailOp } from './tail-ops';

/**
 * A network split at a layer: `head` computes the layer's output A (plus any earlier tensors
 * the tail also reads, e.g. skip connections, which do not depend on A), `tail` maps them to
 * the class scores before softmax (logits) with plain differentiable ops.
 */
export interface SplitModel {
  readonly layer: string;
  /** [height, width, channels] of A. */
  readonly shape: [number, number, number];
  head(input: tf.Tensor4D): { activation: tf.Tensor4D; externals: tf.Tensor[] };
  tail(activation: tf.Tensor4D, externals: tf.Tensor[]): tf.Tensor2D;
  /** Later layers the tail passes through (`taps` of splitModel), in network order. */
  readonly taps: string[];
  /**
   * The tail with `offsets[i]` added to tap i's output (zeros: the same logits, but the tap
   * becomes an input to differentiate w.r.t.); `onTap` sees each tap's output.
   */
  tailWithTaps(
    activation: tf.Tensor4D,
    externals: tf.Tensor[],
    offsets: tf.Tensor[],
    onTap?: (index: number, output: tf.Tensor4D) => void,
  ): tf.Tensor2D;
  dispose(): void;
}

type Symbolic = tf.SymbolicTensor;

function inputsOf(layer: tf.layers.Layer): Symbolic[] {
  if (layer.inboundNodes.length !== 1) {
    throw new XrayError(
      'MODEL_INVALID',
      `layer "${layer.name}" is used ${layer.inboundNodes.length} times; Grad-CAM++ needs each layer used once`,
    );
  }
  return layer.inboundNodes[0].inputTensors;
}

function outputOf(layer: tf.layers.Layer): Symbolic {
  const out = layer.output;
  if (Array.isArray(out)) throw new XrayError('MODEL_INVALID', `layer "${layer.name}" has several outputs`);
  return out;
}

export function splitModel(model: tf.LayersModel, layerName: string, taps: string[] = []): SplitModel {
  const names = model.layers.map((l) => l.name);
  if (!names.includes(layerName)) {
    throw new XrayError('MODEL_INVALID', `Grad-CAM layer "${layerName}" is not a layer of the network`);
  }
  const target = model.getLayer(layerName);
  const targetOut = outputOf(target);
  if (targetOut.shape.length !== 4)
    throw new XrayError('MODEL_INVALID', `Grad-CAM layer "${layerName}" does not output a 4-D map`);
  const modelOut = model.outputs[0];

  // Layers downstream of the target, in topological order (model.layers is sorted so).
  const reachable = new Set<number>([targetOut.id]);
  const tailLayers: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer === target) continue;
    if (inputsOf(layer).some((t) => reachable.has(t.id))) {
      tailLayers.push(layer);
      reachable.add(outputOf(layer).id);
    }
  }
  if (!reachable.has(modelOut.id))
    throw new XrayError('MODEL_INVALID', `the output does not depend on layer "${layerName}"`);

  const tapIndex = new Map<tf.layers.Layer, number>();
  const tapOrder = tailLayers.filter((l) => taps.includes(l.name));
  for (const tap of taps) {
    const layer = tapOrder.find((l) => l.name === tap);
    if (!layer) throw new XrayError('MODEL_INVALID', `Grad-CAM layer "${tap}" does not come after "${layerName}"`);
    if (outputOf(layer).shape.length !== 4)
      throw new XrayError('MODEL_INVALID', `Grad-CAM layer "${tap}" does not output a 4-D map`);
  }
  tapOrder.forEach((layer, i) => tapIndex.set(layer, i));

  const externals = new Map<number, Symbolic>();
  for (const layer of tailLayers) {
    for (const t of inputsOf(layer)) if (!reachable.has(t.id)) externals.set(t.id, t);
  }
  const externalIds = [...externals.keys()];
  const head = tf.model({ inputs: model.inputs, outputs: [targetOut, ...externals.values()] });

  const constants: tf.Tensor[] = [];
  const ops = new Map<tf.layers.Layer, TailOp>();
  try {
    for (const layer of tailLayers) ops.set(layer, tailOp(layer, outputOf(layer).id === modelOut.id, constants));
  } catch (error) {
    tf.dispose(constants);
    throw error;
  }

  return {
    layer: layerName,
    shape: targetOut.shape.slice(1) as [number, number, number],
    head(input) {
      const outs = head.predict(input) as tf.Tensor | tf.Tensor[];
      const [activation, ...rest] = Array.isArray(outs) ? outs : [outs];
      return { activation: activation as tf.Tensor4D, externals: rest };
    },
    taps: tapOrder.map((l) => l.name),
    tail(activation, externalValues) {
      return this.tailWithTaps(activation, externalValues, []);
    },
    tailWithTaps(activation, externalValues, offsets, onTap) {
      const values = new Map<number, tf.Tensor>([[targetOut.id, activation]]);
      externalIds.forEach((id, i) => values.set(id, externalValues[i]));
      for (const layer of tailLayers) {
        let output = ops.get(layer)!(inputsOf(layer).map((t) => values.get(t.id)!));
        const tap = tapIndex.get(layer);
        if (tap !== undefined) {
          onTap?.(tap, output as tf.Tensor4D);
          if (offsets[tap]) output = tf.add(output, offsets[tap]);
        }
        values.set(outputOf(layer).id, output);
      }
      return values.get(modelOut.id) as tf.Tensor2D;
    },
    dispose() {
      tf.dispose(constants);
    },
  };
}
