import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph-builder';
import { buildForward } from './forward';
import type { Op } from './ops';

/** Multiply-adds x 2 of one op per image (convolutions and dense layers; the rest is memory-bound and ignored). */
function opFlops(op: Op): number {
  if (op.kind === 'conv') {
    const [cout, hOut, wOut] = op.y.shape;
    const cinPerGroup = op.x.shape[0] / op.group;
    return 2 * cout * cinPerGroup * op.kernel[0] * op.kernel[1] * hOut * wOut;
  }
  if (op.kind === 'dense') return 2 * op.x.shape[0] * op.y.shape[0];
  return 0;
}

/** Floating-point operations of one forward pass of one image, as the ONNX export computes it. */
export function forwardFlops(model: tf.LayersModel): number {
  return buildForward(new GraphBuilder(), model).tape.reduce((sum, op) => sum + opFlops(op), 0);
}
