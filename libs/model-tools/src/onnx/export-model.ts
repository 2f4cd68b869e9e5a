import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph-builder';
import { buildForward } from './forward';

/** metadata_props key naming the graph output that equals the Keras model's own output ('probabilities' or 'logits'). */
export const MODEL_OUTPUT_METADATA = 'xray.model_output';

/**
 * The classification graph: NHWC float input `input` [N, H, W, C] -> `logits` [N, K]
 * (the scores before softmax) and `probabilities` [N, K] (softmax of the logits: the Keras
 * model's own output when it ends in a softmax).
 */
export function exportClassifier(model: tf.LayersModel, metadata: Record<string, string> = {}): Uint8Array {
  const g = new GraphBuilder();
  const f = buildForward(g, model);
  const classes = f.logits.shape[0];
  const endsInSoftmax = f.probabilities !== f.logits;
  g.output(f.logits.name, 'logits', ['N', classes]);
  const probabilities = endsInSoftmax
    ? f.probabilities.name
    : g.node('Softmax', [f.logits.name], 'softmax', { axis: -1 });
  g.output(probabilities, 'probabilities', ['N', classes]);
  return g.encode(model.name, 'Classifier exported from a TensorFlow.js LayersModel by xray export-onnx.', {
    ...metadata,
    [MODEL_OUTPUT_METADATA]: endsInSoftmax ? 'probabilities' : 'logits',
  });
}
