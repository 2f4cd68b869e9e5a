import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import { packageIOHandler, packageReader } from '@xray/ml';
import { readKerasModel } from '../keras/import-keras';

export interface BackboneCutOptions {
  /** The backbone's last activation, where it is cut (default `out_relu`, MobileNetV2). */
  layer?: string;
}

/**
 * A pretrained backbone from ../shared/models, cut at its last activation: a Keras .h5/.keras
 * file (e.g. teachable-machine-mobilenetv2/keras_model.h5) or a tfjs LayersModel folder
 * (e.g. nsfwjs-mobilenetv2). Everything after the cut (the original classifier head) is
 * disposed and never reused.
 */
export async function loadBackbone(source: string, options: BackboneCutOptions = {}): Promise<tf.LayersModel> {
  const layerName = options.layer ?? 'out_relu';
  const stat = await fs.stat(source).catch(() => undefined);
  if (!stat) throw new XrayError('MODEL_NOT_FOUND', `no backbone at ${source}`);
  const full = stat.isDirectory()
    ? await tf.loadLayersModel(packageIOHandler(packageReader(source)))
    : (await readKerasModel(await fs.readFile(source))).model;
  if (!full.layers.some((l) => l.name === layerName)) {
    full.dispose();
    throw new XrayError('MODEL_INVALID', `backbone ${path.basename(source)} has no layer "${layerName}" to cut at`);
  }
  const backbone = tf.model({
    inputs: full.inputs,
    outputs: full.getLayer(layerName).output as tf.SymbolicTensor,
    name: `${full.name}_backbone`,
  });
  const kept = new Set(backbone.layers);
  for (const layer of full.layers) if (!kept.has(layer)) layer.dispose();
  return backbone;
}

/**
 * Copies weights by layer name from `source` into `target` (e.g. a pretrained backbone into
 * mobileNetV2({alpha: 0.35, ...}) built in code) where the shapes agree.
 */
export function transferWeights(
  source: tf.LayersModel,
  target: tf.LayersModel,
): { copied: string[]; skipped: string[] } {
  const copied: string[] = [];
  const skipped: string[] = [];
  const byName = new Map(source.layers.map((l) => [l.name, l]));
  for (const layer of target.layers) {
    if (layer.weights.length === 0) continue;
    const from = byName.get(layer.name);
    const values = from?.getWeights();
    const fits =
      values &&
      values.length === layer.weights.length &&
      values.every((v, i) => v.shape.join() === layer.weights[i].shape.join());
    if (fits) {
      layer.setWeights(values);
      copied.push(layer.name);
    } else {
      skipped.push(layer.name);
    }
  }
  return { copied, skipped };
}
