import type * as tf from '@tensorflow/tfjs';
import { FEATURES_OUTPUT } from '@xray/ml';
import { XrayError } from '@xray/shared';
import { GraphBuilder } from './graph-builder';
import { buildForward } from './forward';

/** metadata_props key naming the graph output that equals the Keras model's own output ('probabilities' or 'logits'). */
export const MODEL_OUTPUT_METADATA = 'xray.model_output';

/**
 * The classification graph: NHWC float input `input` [N, H, W, C] -> `logits` [N, K]
 * (the scores before softmax) and `probabilities` [N, K] (softmax of the logits: the Keras
 * model's own output when it ends in a softmax), and with `featureLayer` that layer's output as
 * `features` [N, F] (the pooled features of the out-of-distribution model).
 */
export function exportClassifier(
  model: tf.LayersModel,
  metadata: Record<string, string> = {},
  featureLayer?: string,
): Uint8Array {
  const g = new GraphBuilder();
  const f = buildForward(g, model);
  const classes = f.logits.shape[0];
  const endsInSoftmax = f.probabilities !== f.logits;
  g.output(f.logits.name, 'logits', ['N', classes]);
  const probabilities = endsInSoftmax
    ? f.probabilities.name
    : g.node('Softmax', [f.logits.name], 'softmax', { axis: -1 });
  g.output(probabilities, 'probabilities', ['N', classes]);
  if (featureLayer) {
    const features = f.layerOutputs.get(featureLayer);
    if (!features || features.shape.length !== 1) {
      throw new XrayError('MODEL_INVALID', `feature layer '${featureLayer}' is not a vector output of the network`);
    }
    g.output(features.name, FEATURES_OUTPUT, ['N', features.shape[0]]);
  }
  return g.encode(model.name, 'Classifier exported from a TensorFlow.js LayersModel by xray export-onnx.', {
    ...metadata,
    [MODEL_OUTPUT_METADATA]: endsInSoftmax ? 'probabilities' : 'logits',
  });
}
