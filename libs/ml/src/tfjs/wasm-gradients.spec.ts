import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '@xray/shared';
import { initTfjsBackend } from './backend';
import { registerWasmGradientKernels } from './wasm-gradients';

type Pad = 'same' | 'valid';
interface Case {
  batch: number;
  height: number;
  width: number;
  channels: number;
  filter: number;
  /** Output channels (conv) or channel multiplier (depthwise). */
  out: number;
  stride: number;
  pad: Pad;
}

const cases: Case[] = [
  { batch: 2, height: 7, width: 9, channels: 3, filter: 3, out: 4, stride: 1, pad: 'same' },
  { batch: 1, height: 8, width: 8, channels: 5, filter: 3, out: 2, stride: 2, pad: 'same' },
  { batch: 3, height: 9, width: 6, channels: 4, filter: 3, out: 1, stride: 2, pad: 'valid' },
  { batch: 2, height: 5, width: 5, channels: 6, filter: 1, out: 3, stride: 1, pad: 'valid' },
  { batch: 1, height: 10, width: 7, channels: 2, filter: 2, out: 3, stride: 2, pad: 'same' },
  { batch: 2, height: 6, width: 11, channels: 3, filter: 5, out: 2, stride: 1, pad: 'valid' },
  { batch: 2, height: 7, width: 5, channels: 3, filter: 3, out: 2, stride: 2, pad: 'same' },
  { batch: 1, height: 7, width: 8, channels: 2, filter: 2, out: 3, stride: 3, pad: 'valid' },
];

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const random = seededRandom(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
    shape,
  );
}

/** Gradients of sum(conv(x, w) * upstream) with respect to x and w, on the current backend. */
async function gradients(c: Case, depthwise: boolean, seed: number): Promise<{ dx: Float32Array; dw: Float32Array }> {
  const x = randomTensor([c.batch, c.height, c.width, c.channels], seed) as tf.Tensor4D;
  const w = randomTensor([c.filter, c.filter, c.channels, c.out], seed + 1) as tf.Tensor4D;
  const forward = (xs: tf.Tensor4D, ws: tf.Tensor4D) =>
    depthwise ? tf.depthwiseConv2d(xs, ws, c.stride, c.pad) : tf.conv2d(xs, ws, c.stride, c.pad);
  const output = forward(x, w);
  const upstream = randomTensor(output.shape, seed + 2);
  output.dispose();
  // tf.grads leaves the forward value undisposed: tidy keeps the count exact.
  const [dx, dw] = tf.tidy(() =>
    tf.grads((xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.mul(forward(xs as tf.Tensor4D, ws as tf.Tensor4D), upstream)))(
      [x, w],
    ),
  );
  const result = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array };
  tf.dispose([x, w, upstream, dx, dw]);
  return result;
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst).toBeLessThan(1e-4);
}

describe('wasm gradient kernels (conv filter and input, depthwise filter and input) match the cpu backend', () => {
  beforeAll(async () => {
    registerWasmGradientKernels();
    registerWasmGradientKernels(); // idempotent
    await initTfjsBackend({ backend: 'wasm', threads: 1 });
  });

  for (const depthwise of [false, true]) {
    for (const [index, c] of cases.entries()) {
      it(`${depthwise ? 'depthwise' : 'conv2d'} ${c.filter}x${c.filter} stride ${c.stride} ${c.pad} on ${c.batch}x${c.height}x${c.width}x${c.channels} (${depthwise ? 'multiplier' : 'out'} ${c.out})`, async () => {
        await tf.setBackend('cpu');
        const expected = await gradients(c, depthwise, 100 * index);
        await tf.setBackend('wasm');
        const before = tf.memory().numTensors;
        const actual = await gradients(c, depthwise, 100 * index);
        expect(tf.memory().numTensors).toBe(before);
        expectClose(actual.dw, expected.dw);
        expectClose(actual.dx, expected.dx);
      });
    }
  }
});
