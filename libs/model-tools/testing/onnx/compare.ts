import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { gradCamPlusPlus, splitModel } from '@xray/ml';
import { exportGradCam } from '../../src/onnx/export-gradcam';
import { exportClassifier } from '../../src/onnx/export-model';

export interface Comparison {
  /** Largest difference of the exported classifier's probabilities from tfjs'. */
  probabilities: number;
  /** Largest difference of the exported Grad-CAM++ maps from the tfjs engine's. */
  map: number;
  /** Both explained the same (predicted) classes. */
  sameClasses: boolean;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
}

/** Runs `images` through tfjs (one pass: Grad-CAM++ of the predicted classes, whose logits give the probabilities) and through both exported graphs. */
export async function compareWithTfjs(
  model: tf.LayersModel,
  layer: string,
  images: Float32Array[],
): Promise<Comparison> {
  const [, h, w, c] = model.inputs[0].shape as number[];
  const batch = new Float32Array(images.length * h * w * c);
  images.forEach((image, i) => batch.set(image, i * image.length));
  const dims = [images.length, h, w, c];

  const split = splitModel(model, layer);
  const input = tf.tensor4d(batch, dims as [number, number, number, number]);
  const oracle = gradCamPlusPlus(split, input);
  const expectedMaps = await oracle.maps.data();
  const expectedProbabilities = tf.tidy(() => tf.softmax(oracle.logits).dataSync());
  tf.dispose([input, oracle.maps, oracle.logits]);
  split.dispose();

  const classifier = await ort.InferenceSession.create(exportClassifier(model));
  const { probabilities } = await classifier.run({ input: new ort.Tensor('float32', batch, dims) });
  await classifier.release();
  const gradcam = await ort.InferenceSession.create(exportGradCam(model, layer));
  const explained = await gradcam.run({
    input: new ort.Tensor('float32', batch, dims),
    class_index: new ort.Tensor('int64', new BigInt64Array(images.length).fill(-1n), [images.length]),
  });
  await gradcam.release();
  return {
    probabilities: maxDiff(probabilities.data as Float32Array, expectedProbabilities),
    map: maxDiff(explained.map.data as Float32Array, expectedMaps),
    sameClasses:
      Array.from(explained.explained_class.data as BigInt64Array, Number).join() === oracle.classIndices.join(),
  };
}
