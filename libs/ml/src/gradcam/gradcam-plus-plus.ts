import * as tf from '@tensorflow/tfjs';
import type { SplitModel } from './split-model';

/**
 * Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19 with the exponential trick) from the
 * post-activation map A [N,H,W,K] of the target layer and g = d(logit_c)/dA:
 *   alpha = g^2 / (2 g^2 + sum_ab(A) g^3)   (0 where the denominator is 0)
 *   w_k   = sum_ij alpha_ijk ReLU(g_ijk)
 *   map   = ReLU(sum_k w_k A_k)
 * Normalisation convention: each image's map is divided by its own maximum, so 1 marks the
 * strongest evidence and 0 none (min is 0 after the ReLU); a map that is 0 everywhere stays 0.
 * Returns [N,H,W].
 */
export function camFromGradients(activation: tf.Tensor4D, gradient: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const g2 = tf.square(gradient);
    const g3 = tf.mul(g2, gradient);
    const sumA = tf.sum(activation, [1, 2], true);
    const denominator = tf.add(tf.mul(g2, 2), tf.mul(sumA, g3));
    const nonZero = tf.notEqual(denominator, 0);
    const alpha = tf.where(
      nonZero,
      tf.div(g2, tf.where(nonZero, denominator, tf.onesLike(denominator))),
      tf.zerosLike(g2),
    );
    const weights = tf.sum(tf.mul(alpha, tf.relu(gradient)), [1, 2], true);
    const cam = tf.relu(tf.sum(tf.mul(weights, activation), 3)) as tf.Tensor3D;
    const max = tf.max(cam, [1, 2], true);
    const positive = tf.greater(max, 0);
    return tf.where(positive, tf.div(cam, tf.where(positive, max, tf.onesLike(max))), tf.zerosLike(cam));
  });
}

export interface CamResult {
  /** [N,H,W] in [0, 1]. */
  maps: tf.Tensor3D;
  /** The explained class of each image. */
  classIndices: number[];
  /** [N, classes] scores before softmax. */
  logits: tf.Tensor2D;
}

/**
 * Grad-CAM++ for a batch: forward through the head once, then differentiate only the tail
 * w.r.t. A. `classIndices` default to each image's top logit.
 */
export function gradCamPlusPlus(split: SplitModel, input: tf.Tensor4D, classIndices?: number[]): CamResult {
  return tf.tidy(() => {
    const { activation, externals } = split.head(input);
    const logits = split.tail(activation, externals);
    const chosen = classIndices ?? Array.from(tf.argMax(logits, 1).dataSync());
    const mask = tf.oneHot(tf.tensor1d(chosen, 'int32'), logits.shape[1]);
    // Images are independent, so d(sum_b logit_b,c_b)/dA gives each image's own gradient.
    const gradient = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(split.tail(a as tf.Tensor4D, externals), mask)))(
      activation,
    ) as tf.Tensor4D;
    return { maps: camFromGradients(activation, gradient), classIndices: chosen, logits };
  }) as unknown as CamResult;
}
