import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import {
  BODY_PART_LABELS,
  DEFAULT_BAND_THRESHOLDS,
  XrayError,
  type BandThresholds,
  type Normalization,
  type ResizeMode,
} from '@xray/shared';
import { defaultAnimationLayers, knownTargetLayer, type ModelCard, saveModelPackage } from '@xray/ml';
import { flattenKerasModel, type KerasLayerConfig } from './flatten-config';
import { withH5File } from './h5';
import { readKeras2Weights, readKeras3Weights, resolveLayerName, type LayerWeights } from './keras-weights';

export interface KerasModel {
  model: tf.LayersModel;
  format: 'keras2-h5' | 'keras3';
  kerasVersion: string;
}

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

const animation = (layers: string[] | undefined) => (layers?.length ? { animationLayers: layers } : {});

function invalid(message: string, cause?: unknown): XrayError {
  return new XrayError('MODEL_INVALID', message, { cause });
}

/**
 * Reads a Keras 2 HDF5 (.h5) or Keras 3 (.keras zip) model into a tfjs LayersModel with one
 * flat functional graph (nested models inlined, Keras layer names kept) and its weights.
 */
export async function readKerasModel(bytes: Uint8Array): Promise<KerasModel> {
  const head = Buffer.from(bytes.subarray(0, 8));
  if (head.equals(HDF5_MAGIC)) return readKeras2(bytes);
  if (head.subarray(0, 4).equals(ZIP_MAGIC)) return readKeras3(bytes);
  throw invalid('not a Keras model: expected an HDF5 .h5 file or a Keras 3 .keras archive');
}

async function readKeras2(bytes: Uint8Array): Promise<KerasModel> {
  const { config, weights, kerasVersion } = await withH5File(bytes, (file) => {
    const configText = file.attrs.model_config?.value;
    if (typeof configText !== 'string') {
      throw invalid('the HDF5 file has no model_config: it holds weights only (save the whole model with model.save)');
    }
    return {
      config: parseConfig(configText),
      weights: readKeras2Weights(file),
      kerasVersion: String(file.attrs.keras_version?.value ?? 'unknown'),
    };
  });
  return { model: await buildModel(config, weights), format: 'keras2-h5', kerasVersion };
}

async function readKeras3(bytes: Uint8Array): Promise<KerasModel> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw invalid('the .keras archive cannot be read', error);
  }
  if (!files['config.json'] || !files['model.weights.h5'])
    throw invalid('the .keras archive lacks config.json or model.weights.h5');
  const config = parseConfig(Buffer.from(files['config.json']).toString('utf8'));
  const metadata = files['metadata.json'] ? JSON.parse(Buffer.from(files['metadata.json']).toString('utf8')) : {};
  const weights = await withH5File(files['model.weights.h5'], (file) => readKeras3Weights(file, config));
  return {
    model: await buildModel(config, weights),
    format: 'keras3',
    kerasVersion: String(metadata.keras_version ?? '3'),
  };
}

function parseConfig(text: string): KerasLayerConfig {
  try {
    return JSON.parse(text) as KerasLayerConfig;
  } catch (error) {
    throw invalid('the model config is not valid JSON', error);
  }
}

async function buildModel(config: KerasLayerConfig, weights: LayerWeights): Promise<tf.LayersModel> {
  const topology = flattenKerasModel(config);
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  } catch (error) {
    throw invalid(
      `TensorFlow.js cannot build this network: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  try {
    assignWeights(model, weights);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

function assignWeights(model: tf.LayersModel, file: LayerWeights): void {
  const names = new Set(model.layers.map((l) => l.name));
  const stored: LayerWeights = new Map();
  for (const [key, weights] of file) {
    const name = resolveLayerName(key, names);
    if (!name) throw invalid(`the file holds weights for "${key}", which is not a layer of the network`);
    stored.set(name, [...(stored.get(name) ?? []), ...weights]);
  }
  const used = new Set<string>();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const found = stored.get(layer.name);
    if (!found) throw invalid(`the file has no weights for layer "${layer.name}"`);
    used.add(layer.name);
    if (found.length !== layer.weights.length) {
      throw invalid(`layer "${layer.name}" has ${layer.weights.length} weights but the file holds ${found.length}`);
    }
    const values = layer.weights.map((variable, i) => {
      const short = variable.originalName.split('/').pop()!;
      // Keras 2 names each weight; Keras 3 stores them in the layer's own order.
      const match = found.every((w) => w.name) ? found.find((w) => w.name === short) : found[i];
      if (!match) throw invalid(`layer "${layer.name}": no weight "${short}" in the file`);
      if (match.shape.join('x') !== variable.shape.join('x')) {
        throw invalid(
          `layer "${layer.name}" weight "${short}": shape ${match.shape.join('x')} in the file, ${variable.shape.join('x')} expected`,
        );
      }
      return tf.tensor(match.values, variable.shape as number[]);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  const unused = [...stored.keys()].filter((name) => !used.has(name));
  if (unused.length)
    throw invalid(`the file holds weights for layers that have none: ${unused.slice(0, 5).join(', ')}`);
}

export interface KerasImportOptions {
  /** Class names in output order (default: the 22 body parts when the network has 22 outputs). */
  labels?: string[];
  /** Grad-CAM++ layer (default: conv5_block30_concat for DenseNet201, else the last layer with a height x width x channels output). */
  targetLayer?: string;
  /** Layers for `xray explain --animate` (default: known for DenseNet and MobileNetV2, see defaultAnimationLayers). */
  animationLayers?: string[];
  name?: string;
  version?: string;
  architecture?: string;
  normalization?: Normalization;
  resize?: ResizeMode;
  bands?: BandThresholds;
  temperature?: number;
}

/** Reads labels.txt: one class per line; a leading index ("0 Abdomen", Teachable Machine) is dropped. */
export function parseLabels(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.every((l) => /^\d+\s+\S/.test(l)) ? lines.map((l) => l.replace(/^\d+\s+/, '')) : lines;
}

/** The last layer whose output is one height x width x channels map (for networks knownTargetLayer does not know). */
export function defaultTargetLayer(model: tf.LayersModel): string {
  const spatial = model.layers.filter((l) => {
    const shape = l.outputShape;
    return Array.isArray(shape) && shape.length === 4 && !Array.isArray(shape[0]) && l.getClassName() !== 'InputLayer';
  });
  if (!spatial.length) throw invalid('the network has no convolutional layer to explain');
  return spatial[spatial.length - 1].name;
}

/** Converts a Keras model file into a model package in `outDir`; returns its card. */
export async function importKeras(file: string, outDir: string, options: KerasImportOptions = {}): Promise<ModelCard> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new XrayError('MODEL_NOT_FOUND', `cannot read ${file}`, { cause: error });
  }
  const { model, format, kerasVersion } = await readKerasModel(bytes);
  try {
    const [, height, width, channels] = model.inputs[0].shape;
    if (!height || !width || (channels !== 1 && channels !== 3)) {
      throw invalid(
        `the network input must be a fixed height x width x 1|3 image (it is ${model.inputs[0].shape.join('x')})`,
      );
    }
    const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
    const labels = options.labels ?? (units === BODY_PART_LABELS.length ? [...BODY_PART_LABELS] : undefined);
    if (!labels) throw invalid(`the network has ${units} outputs: give its labels (--labels)`);
    return await saveModelPackage(outDir, model, {
      name: options.name ?? path.basename(file).replace(/\.(h5|hdf5|keras)$/i, ''),
      version: options.version ?? '1.0.0',
      architecture: options.architecture ?? `Keras ${kerasVersion} model "${model.name}" (imported from ${format})`,
      preprocessing: {
        width,
        height,
        channels,
        normalization: options.normalization ?? 'minus1to1',
        resize: options.resize ?? 'stretch',
      },
      labels,
      gradcam: {
        targetLayer:
          options.targetLayer ?? knownTargetLayer(model.layers.map((l) => l.name)) ?? defaultTargetLayer(model),
        ...animation(options.animationLayers ?? defaultAnimationLayers(model.layers.map((l) => l.name))),
      },
      bands: options.bands ?? DEFAULT_BAND_THRESHOLDS,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      training: { importedFrom: path.basename(file), format, kerasVersion },
    });
  } finally {
    model.dispose();
  }
}
