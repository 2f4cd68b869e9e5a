import type * as H5 from 'h5wasm';
import { XrayError } from '@xray/shared';
import type { KerasLayerConfig } from './flatten-config';

export interface StoredWeight {
  /** Keras variable name (kernel, bias, gamma, moving_mean, ...) when the file says it. */
  name?: string;
  shape: number[];
  values: Float32Array;
}

/** Weights per (flattened) layer name, in the file's order for that layer. */
export type LayerWeights = Map<string, StoredWeight[]>;

function readDataset(dataset: H5.Dataset, where: string): StoredWeight {
  const value = dataset.value;
  if (!ArrayBuffer.isView(value) || value instanceof DataView)
    throw new XrayError('MODEL_INVALID', `weight ${where} is not a numeric array`);
  const values = value instanceof Float32Array ? value : Float32Array.from(value as unknown as ArrayLike<number>);
  return { shape: dataset.shape ?? [], values };
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value ? [value] : [];
}

/**
 * Keras 2 HDF5: `model_weights/<top layer>` lists `weight_names` such as `dense/kernel:0`, or,
 * for a nested model, `Conv1/kernel:0` for each of its layers (trainable ones first, so the
 * order is not the layer's: weights are matched by name). Everything before the variable name
 * is the layer (DenseNet's `conv1/conv/kernel:0`); `resolveLayerName` drops a scope prefix.
 */
export function readKeras2Weights(file: H5.File): LayerWeights {
  const root = (file.get('model_weights') as H5.Group | null) ?? file;
  const weights: LayerWeights = new Map();
  for (const top of stringList(root.attrs.layer_names?.value)) {
    const group = root.get(top) as H5.Group;
    for (const weightName of stringList(group.attrs.weight_names?.value)) {
      const parts = weightName.split('/');
      const layer = parts.length > 1 ? parts.slice(0, -1).join('/') : top;
      const dataset = group.get(weightName) as H5.Dataset | null;
      if (!dataset) throw new XrayError('MODEL_INVALID', `weight ${top}/${weightName} is listed but absent`);
      const stored = { ...readDataset(dataset, weightName), name: parts[parts.length - 1].replace(/:\d+$/, '') };
      weights.set(layer, [...(weights.get(layer) ?? []), stored]);
    }
  }
  return weights;
}

/** Keras's `to_snake_case` of a class name (Conv2D -> conv2d, ReLU -> re_lu). */
function snakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/**
 * Keras 3 `model.weights.h5`: each layer's variables at `layers/<class in snake case>[_n]/vars/<i>`
 * (n counts that class within its model, in layer order; nested models add `layers/...` again),
 * in the layer's own variable order.
 */
export function readKeras3Weights(file: H5.File, model: KerasLayerConfig): LayerWeights {
  const weights: LayerWeights = new Map();
  const walk = (config: KerasLayerConfig, prefix: string) => {
    const counters = new Map<string, number>();
    for (const layer of config.config.layers as KerasLayerConfig[]) {
      const cls = snakeCase(layer.class_name);
      const n = counters.get(cls);
      counters.set(cls, n === undefined ? 0 : n + 1);
      const path = `${prefix}layers/${n === undefined ? cls : `${cls}_${n + 1}`}`;
      if (MODEL_CLASSES.has(layer.class_name)) {
        walk(layer, `${path}/`);
        continue;
      }
      const vars = file.get(`${path}/vars`) as H5.Group | null;
      if (!vars) continue;
      const keys = vars.keys().sort((a, b) => Number(a) - Number(b));
      const name = layer.config.name ?? layer.name;
      if (keys.length)
        weights.set(
          name,
          keys.map((k) => readDataset(vars.get(k) as H5.Dataset, `${path}/vars/${k}`)),
        );
    }
  };
  walk(model, '');
  return weights;
}

/**
 * The network layer a stored weight group belongs to: its own name, or, when Keras prefixed a
 * model scope (`densenet201/conv1/conv`), the longest suffix that names a layer.
 */
export function resolveLayerName(stored: string, layerNames: Set<string>): string | undefined {
  const parts = stored.split('/');
  for (let i = 0; i < parts.length; i++) {
    const candidate = parts.slice(i).join('/');
    if (layerNames.has(candidate)) return candidate;
  }
  return undefined;
}
