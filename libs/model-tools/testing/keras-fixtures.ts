/**
 * Test fixtures: Keras files written with h5wasm in the layouts Keras itself writes (checked
 * against the real Teachable Machine file for Keras 2), since Python Keras cannot run here.
 * The network, nested as transfer learning produces it:
 *   classifier: input (8x8x3) -> backbone -> gap -> dense(3, softmax)
 *   backbone:   conv1/conv -> conv_bn -> conv_relu -> dw (depthwise) -> conv2 (1x1) -> target_relu
 * (`conv1/conv`: Keras 2 DenseNet names hold slashes, which h5py stores as nested groups.)
 */
import { strToU8, zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import { createH5File } from '../src/keras/h5';

type Weights = Record<string, Record<string, { shape: number[]; values: Float32Array }>>;

function random(shape: number[], seed: number, offset = 0, scale = 0.5): { shape: number[]; values: Float32Array } {
  let state = seed;
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return offset + scale * ((state / 2 ** 31) * 2 - 1);
  });
  return { shape, values };
}

/** The fixture's weights by layer, variables in Keras order. */
export function fixtureWeights(): Weights {
  return {
    'conv1/conv': { kernel: random([3, 3, 3, 4], 1), bias: random([4], 2) },
    conv_bn: {
      gamma: random([4], 3, 1, 0.2),
      beta: random([4], 4),
      moving_mean: random([4], 5),
      moving_variance: random([4], 6, 1, 0.5),
    },
    dw: { depthwise_kernel: random([3, 3, 4, 1], 7) },
    conv2: { kernel: random([1, 1, 4, 5], 8), bias: random([5], 9) },
    dense: { kernel: random([5, 3], 10), bias: random([3], 11) },
  };
}

/** The same network built directly in tfjs with the fixture weights: the reference. */
export function nestedKerasReferenceModel(): tf.LayersModel {
  const w = fixtureWeights();
  const input = tf.input({ shape: [8, 8, 3] });
  const layers: Array<[tf.layers.Layer, string | null]> = [
    [tf.layers.conv2d({ name: 'conv1/conv', filters: 4, kernelSize: 3, padding: 'same' }), 'conv1/conv'],
    [tf.layers.batchNormalization({ name: 'conv_bn', epsilon: 1e-3 }), 'conv_bn'],
    [tf.layers.reLU({ name: 'conv_relu' }), null],
    [tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', useBias: false }), 'dw'],
    [tf.layers.conv2d({ name: 'conv2', filters: 5, kernelSize: 1 }), 'conv2'],
    [tf.layers.reLU({ name: 'target_relu', maxValue: 6 }), null],
    [tf.layers.globalAveragePooling2d({ name: 'gap' }), null],
    [tf.layers.dense({ name: 'dense', units: 3, activation: 'softmax' }), 'dense'],
  ];
  let x: tf.SymbolicTensor = input;
  for (const [layer] of layers) x = layer.apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  for (const [layer, key] of layers)
    if (key) layer.setWeights(Object.values(w[key]).map((v) => tf.tensor(v.values, v.shape)));
  return model;
}

const backboneLayers = (keras3: boolean) => {
  const dtype = keras3
    ? { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }
    : 'float32';
  const init = keras3
    ? { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null }
    : { class_name: 'GlorotUniform', config: { seed: null } };
  return [
    {
      class_name: 'Conv2D',
      config: {
        name: 'conv1/conv',
        trainable: true,
        dtype,
        filters: 4,
        kernel_size: [3, 3],
        strides: [1, 1],
        padding: 'same',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: 'linear',
        use_bias: true,
        kernel_initializer: init,
        bias_initializer: init,
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      },
    },
    {
      class_name: 'BatchNormalization',
      config: {
        name: 'conv_bn',
        trainable: true,
        dtype,
        axis: keras3 ? -1 : [3],
        momentum: 0.99,
        epsilon: 0.001,
        center: true,
        scale: true,
      },
    },
    {
      class_name: 'ReLU',
      config: { name: 'conv_relu', trainable: true, dtype, max_value: null, negative_slope: 0, threshold: 0 },
    },
    {
      class_name: 'DepthwiseConv2D',
      config: {
        name: 'dw',
        trainable: true,
        dtype,
        kernel_size: [3, 3],
        strides: [1, 1],
        padding: 'same',
        depth_multiplier: 1,
        activation: 'linear',
        use_bias: false,
        dilation_rate: [1, 1],
        data_format: 'channels_last',
      },
    },
    {
      class_name: 'Conv2D',
      config: {
        name: 'conv2',
        trainable: true,
        dtype,
        filters: 5,
        kernel_size: [1, 1],
        strides: [1, 1],
        padding: 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: 'linear',
        use_bias: true,
      },
    },
    {
      class_name: 'ReLU',
      config: { name: 'target_relu', trainable: true, dtype, max_value: 6, negative_slope: 0, threshold: 0 },
    },
  ];
};

/** Wires `layers` in a chain as Keras 2 (`[[[name, 0, 0, {}]]]`) or Keras 3 (`{args: [keras tensor]}`) nodes. */
function chain(layers: Array<{ class_name: string; config: any }>, input: string, keras3: boolean) {
  let previous = input;
  return layers.map((layer) => {
    const node = keras3
      ? {
          args: [
            {
              class_name: '__keras_tensor__',
              config: { shape: [null, 8, 8, 3], dtype: 'float32', keras_history: [previous, 0, 0] },
            },
          ],
          kwargs: {},
        }
      : [[previous, 0, 0, {}]];
    previous = layer.config.name;
    return { ...layer, name: layer.config.name, inbound_nodes: [node] };
  });
}

function modelConfig(keras3: boolean) {
  const input = (name: string) => ({
    class_name: 'InputLayer',
    name,
    inbound_nodes: [],
    config: keras3
      ? { name, batch_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false }
      : { name, batch_input_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, ragged: false },
  });
  const backbone = {
    class_name: 'Functional',
    config: {
      name: 'backbone',
      trainable: true,
      layers: [input('backbone_input'), ...chain(backboneLayers(keras3), 'backbone_input', keras3)],
      input_layers: [['backbone_input', 0, 0]],
      output_layers: [['target_relu', 0, 0]],
    },
  };
  const head = [
    backbone,
    { class_name: 'GlobalAveragePooling2D', config: { name: 'gap', dtype: 'float32', data_format: 'channels_last' } },
    {
      class_name: 'Dense',
      config: { name: 'dense', trainable: true, dtype: 'float32', units: 3, activation: 'softmax', use_bias: true },
    },
  ];
  return {
    class_name: 'Functional',
    config: {
      name: 'classifier',
      layers: [input('image'), ...chain(head, 'image', keras3)],
      input_layers: keras3 ? ['image', 0, 0] : [['image', 0, 0]],
      output_layers: keras3 ? ['dense', 0, 0] : [['dense', 0, 0]],
    },
  };
}

/** Keras 2 HDF5: model_config attr; model_weights/<top layer>/<layer>/<var>:0 with weight_names. */
export function nestedKeras2H5(): Promise<Uint8Array> {
  const w = fixtureWeights();
  return createH5File((file) => {
    file.create_attribute('keras_version', '2.4.0');
    file.create_attribute('backend', 'tensorflow');
    file.create_attribute('model_config', JSON.stringify(modelConfig(false)));
    const root = file.create_group('model_weights');
    root.create_attribute('layer_names', ['image', 'backbone', 'gap', 'dense']);
    const write = (group: ReturnType<typeof file.create_group>, layer: string, vars: string[]) => {
      let sub = group;
      for (const part of layer.split('/')) sub = (sub.get(part) as typeof sub | null) ?? sub.create_group(part);
      for (const v of vars)
        sub.create_dataset({ name: `${v}:0`, data: w[layer][v].values, shape: w[layer][v].shape, dtype: '<f' });
    };
    for (const name of ['image', 'gap']) root.create_group(name).create_attribute('weight_names', [] as string[]);
    const backbone = root.create_group('backbone');
    // As Keras 2 writes a nested model: trainable weights first, then the non-trainable ones.
    const trainable: Array<[string, string[]]> = [
      ['conv1/conv', ['kernel', 'bias']],
      ['conv_bn', ['gamma', 'beta']],
      ['dw', ['depthwise_kernel']],
      ['conv2', ['kernel', 'bias']],
    ];
    const names = [
      ...trainable.flatMap(([l, vars]) => vars.map((v) => `${l}/${v}:0`)),
      'conv_bn/moving_mean:0',
      'conv_bn/moving_variance:0',
    ];
    backbone.create_attribute('weight_names', names);
    for (const [layer] of trainable) write(backbone, layer, Object.keys(w[layer]));
    const dense = root.create_group('dense');
    dense.create_attribute('weight_names', ['dense/kernel:0', 'dense/bias:0']);
    write(dense, 'dense', ['kernel', 'bias']);
  });
}

/** Keras 3 .keras: a zip of config.json, metadata.json and model.weights.h5 (layers/<class>[_n]/vars/<i>). */
export async function nestedKeras3Archive(): Promise<Uint8Array> {
  const w = fixtureWeights();
  const weights = await createH5File((file) => {
    const vars = (path: string, layer: string) => {
      let group = file as ReturnType<typeof file.create_group>;
      for (const part of `${path}/vars`.split('/'))
        group = (group.get(part) as typeof group | null) ?? group.create_group(part);
      Object.values(w[layer]).forEach((v, i) =>
        group.create_dataset({ name: String(i), data: v.values, shape: v.shape, dtype: '<f' }),
      );
    };
    vars('layers/functional/layers/conv2d', 'conv1/conv');
    vars('layers/functional/layers/batch_normalization', 'conv_bn');
    vars('layers/functional/layers/depthwise_conv2d', 'dw');
    vars('layers/functional/layers/conv2d_1', 'conv2');
    vars('layers/dense', 'dense');
  });
  return zipSync({
    'config.json': strToU8(
      JSON.stringify({ module: 'keras.src.models.functional', ...modelConfig(true), registered_name: 'Functional' }),
    ),
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.4.1', date_saved: '2024-07-01@00:00:00' })),
    'model.weights.h5': weights,
  });
}

/**
 * The seed project's layout in Keras 2 HDF5, from a tfjs backbone (e.g. denseNet201 with head
 * 'none'): a Functional classifier whose layer `densenet201` is the backbone model, then
 * GAP -> Dense(1024 -> `hidden`, relu) -> Dense(classes, softmax). tfjs-layers serialises
 * Keras 2 configs, so the backbone's config is written as Keras would. Returns the file and
 * the same classifier built in tfjs (nested, unflattened) as the reference.
 */
export async function seedLikeKeras2H5(
  backbone: tf.LayersModel,
  classes: number,
  hidden = 16,
): Promise<{ bytes: Uint8Array; reference: tf.LayersModel }> {
  const [, h, w, c] = backbone.inputs[0].shape as number[];
  const input = tf.input({ shape: [h, w, c], name: 'input_2' });
  let x = backbone.apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: hidden, activation: 'relu', name: 'dense' }).apply(x) as tf.SymbolicTensor;
  const reference = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: classes, activation: 'softmax', name: 'dense_1' }).apply(x) as tf.SymbolicTensor,
    name: 'seed',
  });
  const topology = reference.toJSON(null, false) as unknown as {
    config: { layers: Array<{ class_name: string; config: any }> };
  };
  // tfjs writes a nested model's config under the layer entry: keep it, named as Keras does.
  for (const layer of topology.config.layers) if (layer.class_name === 'Model') layer.class_name = 'Functional';
  const bytes = await createH5File((file) => {
    file.create_attribute('keras_version', '2.4.0');
    file.create_attribute('backend', 'tensorflow');
    file.create_attribute(
      'model_config',
      JSON.stringify({ class_name: 'Functional', config: (topology as any).config }),
    );
    const root = file.create_group('model_weights');
    root.create_attribute(
      'layer_names',
      reference.layers.map((l) => l.name),
    );
    for (const layer of reference.layers) {
      const group = root.create_group(layer.name);
      const names = layer.weights.map((v) => `${v.originalName}:0`);
      group.create_attribute('weight_names', names);
      layer.getWeights().forEach((value, i) => {
        const parts = names[i].split('/');
        let sub = group;
        for (const part of parts.slice(0, -1)) sub = (sub.get(part) as typeof sub | null) ?? sub.create_group(part);
        sub.create_dataset({
          name: parts[parts.length - 1],
          data: value.dataSync() as Float32Array,
          shape: value.shape,
          dtype: '<f',
        });
      });
    }
  });
  return { bytes, reference };
}
