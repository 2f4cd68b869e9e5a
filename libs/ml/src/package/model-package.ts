import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import type { ModelCard } from '../model-card';
import { checkCardAgainstModel, parseModelCard } from './card-validation';
import { packageReader, type ModelPackageSource, type PackageReader } from './package-source';

export const MODEL_JSON = 'model.json';
export const MODEL_CARD_JSON = 'model-card.json';
const SHARD_BYTES = 4 * 1024 * 1024;

export interface ModelPackage {
  card: ModelCard;
  model: tf.LayersModel;
  /** Reads other files of the package (e.g. `model.onnx`). */
  reader: PackageReader;
}

/** The card without the sha256 that saving computes. */
export type ModelCardDraft = Omit<ModelCard, 'weightsSha256'>;

/**
 * Writes a model package: model.json + weight shards (tfjs LayersModel format) and
 * model-card.json with the sha256 of the shards. The card is checked against the network first.
 */
export async function saveModelPackage(dir: string, model: tf.LayersModel, draft: ModelCardDraft): Promise<ModelCard> {
  const card = parseModelCard({ ...draft, weightsSha256: '0'.repeat(64) });
  checkCardAgainstModel(card, model);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.weightSpecs || saved.weightData === undefined) throw new Error('tfjs returned no weights to save');
  const weights = Buffer.from(tf.io.concatenateArrayBuffers(saved.weightData));
  const shards: Buffer[] = [];
  for (let offset = 0; offset < weights.length || shards.length === 0; offset += SHARD_BYTES) {
    shards.push(weights.subarray(offset, offset + SHARD_BYTES));
  }
  const paths = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'xray',
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths, weights: saved.weightSpecs }],
  };
  const full: ModelCard = { ...card, weightsSha256: sha256(shards) };
  await fs.mkdir(dir, { recursive: true });
  await Promise.all(shards.map((shard, i) => fs.writeFile(path.join(dir, paths[i]), shard)));
  await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
  await fs.writeFile(path.join(dir, MODEL_CARD_JSON), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Reads and validates the card only (no weights): cheap, for listings and the ONNX engine. */
export async function readModelCard(source: ModelPackageSource | PackageReader): Promise<ModelCard> {
  const reader = isReader(source) ? source : packageReader(source);
  return parseModelCard(parseJson(await reader.read(MODEL_CARD_JSON), `${reader.description}/${MODEL_CARD_JSON}`));
}

/** The names of the network's (top-level) layers, from model.json alone (no weights read). */
export async function readLayerNames(source: ModelPackageSource | PackageReader): Promise<string[]> {
  const reader = isReader(source) ? source : packageReader(source);
  const json = parseJson(await reader.read(MODEL_JSON), `${reader.description}/${MODEL_JSON}`) as {
    modelTopology?: any;
  };
  const topology = json.modelTopology?.model_config ?? json.modelTopology;
  const layers: Array<{ name?: string; config?: { name?: string } }> = topology?.config?.layers ?? [];
  return layers.map((l) => l.name ?? l.config?.name ?? '').filter(Boolean);
}

/**
 * Loads a model package from a folder or object storage (never the network): the weights'
 * sha256 must match the card, and the card must match the network. `knownCard`: the card when the
 * caller has read it from this source already (parsed once per open).
 */
export async function loadModelPackage(source: ModelPackageSource, knownCard?: ModelCard): Promise<ModelPackage> {
  const reader = packageReader(source);
  const card = knownCard ?? (await readModelCard(reader));
  const model = await tf.loadLayersModel(packageIOHandler(reader, card.weightsSha256));
  try {
    checkCardAgainstModel(card, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { card, model, reader };
}

/** A tfjs IOHandler reading model.json and its shards through `reader`, checking their sha256. */
export function packageIOHandler(reader: PackageReader, expectedSha256?: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = parseJson(await reader.read(MODEL_JSON), `${reader.description}/${MODEL_JSON}`) as tf.io.ModelJSON;
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new XrayError('MODEL_INVALID', `${reader.description}/${MODEL_JSON} is not a tfjs LayersModel`);
      }
      const paths = json.weightsManifest.flatMap((group) => group.paths);
      const shards = await Promise.all(paths.map((p) => reader.read(p)));
      const actual = sha256(shards);
      if (expectedSha256 && actual !== expectedSha256) {
        throw new XrayError(
          'MODEL_INVALID',
          `weights sha256 ${actual} does not match the model card (${expectedSha256}) in ${reader.description}`,
        );
      }
      const weightData = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
        format: json.format,
      };
    },
  };
}

function sha256(parts: Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function parseJson(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new XrayError('MODEL_INVALID', `${where} is not valid JSON`, { cause: error });
  }
}

function isReader(value: unknown): value is PackageReader {
  return typeof value === 'object' && value !== null && 'read' in value && 'description' in value;
}
