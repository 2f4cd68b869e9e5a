import * as tf from '@tensorflow/tfjs';
import { describeWithShared, sharedPath } from '@xray/testing';
import { initTfjsBackend } from '@xray/ml';
import { loadBackbone, transferWeights } from './backbone';
import { denseNet201 } from './densenet201';
import { mobileNetV2 } from './mobilenetv2';

beforeAll(async () => {
  await initTfjsBackend({ backend: 'wasm' });
});

describe('architectures with Keras layer names', () => {
  it('DenseNet201: Keras names and parameter count, with the seed head', () => {
    const model = denseNet201({ inputSize: 32, classes: 22, head: 'seed' });
    const names = model.layers.map((l) => l.name);
    for (const name of [
      'conv1/conv',
      'conv1/bn',
      'pool1',
      'conv2_block1_0_bn',
      'conv2_block6_concat',
      'pool2_conv',
      'conv4_block48_concat',
      'conv5_block30_concat',
      'conv5_block32_concat',
      'bn',
      'relu',
    ]) {
      expect(names).toContain(name);
    }
    expect(names).not.toContain('conv5_block33_concat');
    expect(model.getLayer('relu').outputShape).toEqual([null, 1, 1, 1920]);
    // keras.applications.DenseNet201(include_top=False) has 18,321,984 parameters.
    expect(model.countParams()).toBe(18_321_984 + 1920 * 1024 + 1024 + 1024 * 22 + 22);
    model.dispose();
  }, 120_000);

  it('MobileNetV2: Keras names and parameter counts for alpha 0.35 and 1.0', () => {
    const small = mobileNetV2({ alpha: 0.35, inputSize: 224, classes: 22, head: 'none' });
    expect(small.layers.map((l) => l.name)).toEqual(
      expect.arrayContaining([
        'Conv1_pad',
        'bn_Conv1',
        'expanded_conv_depthwise',
        'block_16_project_BN',
        'Conv_1',
        'out_relu',
      ]),
    );
    expect(small.outputs[0].shape).toEqual([null, 7, 7, 1280]);
    expect(small.countParams()).toBe(410_208); // keras mobilenet_v2_0.35_224 without top
    const full = mobileNetV2({ alpha: 1, inputSize: 224, classes: 22 });
    expect(full.countParams()).toBe(2_257_984 + 1280 * 22 + 22);
    small.dispose();
    full.dispose();
  }, 60_000);
});

describeWithShared(
  'pretrained backbones from ../shared/models',
  ['models/teachable-machine-mobilenetv2/keras_model.h5', 'models/nsfwjs-mobilenetv2/model.json'],
  () => {
    it('cuts the Teachable Machine model at out_relu (never its Dense head) and fills MobileNetV2-0.35 by name', async () => {
      const backbone = await loadBackbone(sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'));
      expect(backbone.outputs[0].shape).toEqual([null, 7, 7, 1280]);
      expect(backbone.layers.some((l) => l.getClassName() === 'Dense')).toBe(false);
      const built = mobileNetV2({ alpha: 0.35, inputSize: 224, classes: 22, head: 'none' });
      const { skipped } = transferWeights(backbone, built);
      expect(skipped).toEqual([]);
      const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 3);
      const [a, b] = [backbone.predict(x) as tf.Tensor, built.predict(x) as tf.Tensor];
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-4);
      tf.dispose([x, a, b]);
      backbone.dispose();
      built.dispose();
    }, 60_000);

    it('cuts nsfwjs MobileNetV2 at out_relu, dropping its 5-class head', async () => {
      const backbone = await loadBackbone(sharedPath('models/nsfwjs-mobilenetv2'));
      expect(backbone.outputs[0].shape).toEqual([null, 7, 7, 1280]);
      expect(backbone.layers[backbone.layers.length - 1].name).toBe('out_relu');
      const built = mobileNetV2({ alpha: 1, inputSize: 224, classes: 22, head: 'none' });
      expect(transferWeights(backbone, built).skipped).toEqual([]);
      backbone.dispose();
      built.dispose();
    }, 60_000);
  },
);
