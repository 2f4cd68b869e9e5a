/**
 * Cost of fine-tuning on the wasm backend: wasm's own Conv2DBackpropInput against the one
 * libs/ml/src/tfjs/wasm-gradients.ts registers (Conv_1 of MobileNetV2 0.35 at 320 px, batch 32),
 * then one fine-tuning step (forward + backward + Adam) of the top from block_14_expand at 320 px,
 * with the slowest kernels.
 *
 *   node -r @swc-node/register bench/training/fine-tune-step.ts [fromLayer]
 *
 * Needs ../shared/models/teachable-machine-mobilenetv2; not part of `npm test`.
 */
import * as tf from '@tensorflow/tfjs';
import { initTfjsBackend } from '@xray/ml';
import { backboneTop, buildHead, DEFAULT_HEAD, loadTrainingBackbone } from '@xray/model-tools';
import { sharedPath } from '@xray/testing';

function timeMs(run: () => tf.Tensor, reps = 3): number {
  run().dispose();
  const started = Date.now();
  for (let i = 0; i < reps; i++) {
    const result = run();
    result.dataSync();
    result.dispose();
  }
  return (Date.now() - started) / reps;
}

async function main(): Promise<void> {
  const fromLayer = process.argv[2] ?? 'block_14_expand';
  const backend = await initTfjsBackend({ backend: 'wasm' });
  const dy = tf.randomNormal([32, 10, 10, 1280]) as tf.Tensor4D;
  const filter = tf.randomNormal([1, 1, 112, 1280]) as tf.Tensor4D;
  const backpropInput = () => tf.conv2dTranspose(dy, filter, [32, 10, 10, 112], 1, 'valid');
  const native = timeMs(backpropInput);

  const backbone = await loadTrainingBackbone(sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'), {
    layer: 'out_relu',
    normalization: 'minus1to1',
    resize: 'stretch',
    name: 'MobileNetV2 0.35',
    inputSize: 320,
  });
  const top = backboneTop(backbone.model, fromLayer, 'out_relu'); // registers the kernels
  const registered = timeMs(backpropInput);
  console.log(
    `Conv2DBackpropInput 32x10x10x1280 -> 112 (1x1), wasm ${backend.threads} threads: wasm's own ${native.toFixed(0)} ms, registered ${registered.toFixed(0)} ms`,
  );

  const head = buildHead(1280, 22, DEFAULT_HEAD, 1);
  const x = tf.randomNormal([32, ...top.inputShape]);
  const variables = [...top.trainable, ...head.trainableWeights].map((weight) => weight.read() as tf.Variable);
  const optimizer = tf.train.adam(1e-4);
  const step = () =>
    tf.tidy(
      () =>
        optimizer.minimize(
          () =>
            tf.mean(tf.log(tf.add(head.apply(tf.mean(top.forward(x), [1, 2]), { training: true }) as tf.Tensor, 1e-7))),
          true,
          variables,
        ) as tf.Scalar,
    );
  console.log(
    `fine-tuning step from ${fromLayer} (batch 32, 320 px): ${timeMs(step).toFixed(0)} ms; forward only ${timeMs(() => tf.tidy(() => top.forward(x))).toFixed(0)} ms`,
  );
  const profile = await tf.profile(() => step().dispose());
  const perKernel = new Map<string, number>();
  for (const kernel of profile.kernels)
    perKernel.set(kernel.name, (perKernel.get(kernel.name) ?? 0) + Number(kernel.kernelTimeMs));
  for (const [name, ms] of [...perKernel].sort((a, b) => b[1] - a[1]).slice(0, 8))
    console.log(`  ${name}: ${ms.toFixed(0)} ms`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
