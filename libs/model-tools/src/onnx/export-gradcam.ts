import type * as tf from '@tensorflow/tfjs';
import { layerMapOutput } from '@xray/ml';
import { XrayError } from '@xray/shared';
import { GraphBuilder } from './graph-builder';
import { writeBackwardTo } from './backward';
import { buildForward } from './forward';

/** metadata_props key naming the layer a Grad-CAM++ graph explains. */
export const LAYER_METADATA = 'xray.gradcam_layer';

/**
 * The Grad-CAM++ graph for one target layer, in one ONNX model.
 *
 * Inputs: `input` [N, H, W, C] (NHWC, preprocessed) and `class_index` [N] int64 (a negative
 * value explains the predicted class). Outputs: `map` [N, h, w] at the target layer's
 * resolution, normalised per image by its maximum (all zeros when the map is identically zero),
 * `logits` [N, K] and `explained_class` [N]; plus `map:<layer>` [N, h', w'] for each of
 * `extraLayers` (the animation across depth), from the same backward pass.
 *
 * g = d logit_c / d A (A: the target layer's post-activation output, eval mode);
 * alpha = g^2 / (2 g^2 + sum_ab(A) g^3) (0 where the denominator is 0);
 * w_k = sum_ij alpha * ReLU(g); map = ReLU(sum_k w_k A_k).
 */
export function exportGradCam(
  model: tf.LayersModel,
  targetLayer: string,
  metadata: Record<string, string> = {},
  extraLayers: string[] = [],
): Uint8Array {
  const g = new GraphBuilder();
  const f = buildForward(g, model);
  const layers = [targetLayer, ...extraLayers.filter((l) => l !== targetLayer)];
  const targets = layers.map((layer) => {
    const target = f.layerOutputs.get(layer);
    if (!target) throw new XrayError('MODEL_INVALID', `The model has no layer named '${layer}'.`);
    if (target.shape.length !== 3)
      throw new XrayError(
        'MODEL_INVALID',
        `Layer '${layer}' does not output an image-shaped tensor; Grad-CAM++ needs one.`,
      );
    return target;
  });
  const classes = f.logits.shape[0];

  const requested = g.input('class_index', ['N'], 'int64');
  const predicted = g.node('ArgMax', [f.logits.name], 'predicted', { axis: 1, keepdims: 0 });
  const classIndex = g.node(
    'Where',
    [g.node('Less', [requested, g.ints('zero', [0], [])], 'use_predicted'), predicted, requested],
    'class',
  );
  const seed = g.node(
    'OneHot',
    [classIndex, g.ints('depth', [classes], []), g.floats('one_hot_values', Float32Array.of(0, 1), [2])],
    'seed',
    { axis: -1 },
  );

  const grads = writeBackwardTo(g, f.tape, targets, f.logits, seed);
  targets.forEach((target, i) => {
    const [, h, w] = target.shape;
    const map = writeCam(g, target.name, grads[i], i === 0 ? 'gradcam' : `gradcam/${layers[i]}`);
    g.output(map, i === 0 ? 'map' : layerMapOutput(layers[i]), ['N', h, w]);
  });
  g.output(f.logits.name, 'logits', ['N', classes]);
  g.output(classIndex, 'explained_class', ['N'], 'int64');
  return g.encode(
    `${model.name}_gradcam`,
    `Grad-CAM++ at '${targetLayer}', exported from a TensorFlow.js LayersModel by xray export-onnx.`,
    {
      ...metadata,
      [LAYER_METADATA]: targetLayer,
    },
  );
}

/** Grad-CAM++ of the activation A (NCHW) from its gradient: the per-image normalised map [N, h, w]. */
function writeCam(g: GraphBuilder, A: string, grad: string, prefix: string): string {
  const g2 = g.node('Mul', [grad, grad], `${prefix}/g2`);
  const g3 = g.node('Mul', [g2, grad], `${prefix}/g3`);
  const spatial = g.ints('spatial_axes', [2, 3]);
  const sumA = g.node('ReduceSum', [A, spatial], `${prefix}/sum_a`, { keepdims: 1 });
  const denominator = g.node(
    'Add',
    [g.node('Mul', [g2, g.scalar(2)], `${prefix}/2g2`), g.node('Mul', [sumA, g3], `${prefix}/sum_a_g3`)],
    `${prefix}/denominator`,
  );
  const zero = g.node('Equal', [denominator, g.scalar(0)], `${prefix}/zero_denominator`);
  const ratio = g.node(
    'Div',
    [g2, g.node('Where', [zero, g.scalar(1), denominator], `${prefix}/safe_denominator`)],
    `${prefix}/ratio`,
  );
  const alpha = g.node('Where', [zero, g.scalar(0), ratio], `${prefix}/alpha`);
  const weights = g.node(
    'ReduceSum',
    [g.node('Mul', [alpha, g.node('Relu', [grad], `${prefix}/relu_g`)], `${prefix}/alpha_relu_g`), spatial],
    `${prefix}/weights`,
    { keepdims: 1 },
  );
  const weighted = g.node(
    'ReduceSum',
    [g.node('Mul', [weights, A], `${prefix}/weighted_a`), g.ints('channel_axis', [1])],
    `${prefix}/sum_k`,
    { keepdims: 0 },
  );
  const cam = g.node('Relu', [weighted], `${prefix}/cam`);
  const max = g.node('ReduceMax', [cam], `${prefix}/max`, { axes: [1, 2], keepdims: 1 });
  const divisor = g.node(
    'Where',
    [g.node('Greater', [max, g.scalar(0)], `${prefix}/positive`), max, g.scalar(1)],
    `${prefix}/divisor`,
  );
  return g.node('Div', [cam, divisor], `${prefix}/map`);
}
