import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { XrayError } from '@xray/shared';
import { readOnnxMetadata } from '@xray/ml';
import { MODEL_OUTPUT_METADATA } from './export-model';

/** Largest difference between the exported classifier's output and the tfjs model's that export accepts. */
export const EXPORT_TOLERANCE = 1e-4;

/**
 * Runs the exported classifier and the tfjs model on the same deterministic input (values in
 * [-1, 1]) and returns the largest difference of their outputs; throws MODEL_INVALID above
 * EXPORT_TOLERANCE, so that a conversion mistake never reaches a package.
 */
export async function verifyClassifier(model: tf.LayersModel, onnxBytes: Uint8Array): Promise<number> {
  const [, h, w, c] = model.inputs[0].shape as number[];
  const input = Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i * 0.731) * 0.9);
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(input, [1, h, w, c])) as tf.Tensor).dataSync());
  const output = readOnnxMetadata(onnxBytes)[MODEL_OUTPUT_METADATA];
  const session = await ort.InferenceSession.create(onnxBytes, { graphOptimizationLevel: 'all' });
  try {
    const result = await session.run({ input: new ort.Tensor('float32', input, [1, h, w, c]) }, [output]);
    const actual = result[output].data as Float32Array;
    const difference = Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i])));
    if (!(difference <= EXPORT_TOLERANCE)) {
      throw new XrayError(
        'MODEL_INVALID',
        `The exported ONNX graph differs from the tfjs model by ${difference} (more than ${EXPORT_TOLERANCE}); nothing was written.`,
      );
    }
    return difference;
  } finally {
    await session.release();
  }
}
