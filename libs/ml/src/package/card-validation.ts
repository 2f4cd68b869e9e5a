import type * as tf from '@tensorflow/tfjs';
import { LOW_PASS_SIGMA_RANGE, XrayError } from '@xray/shared';
import { type ModelCard, TEST_TIME_AUGMENTATIONS } from '../model-card';

const NORMALIZATIONS = ['minus1to1', 'zero1', 'imagenet'];
const RESIZE_MODES = ['stretch', 'letterbox'];
const RENDERINGS = ['as-decoded', 'equalized'];

function invalid(message: string): XrayError {
  return new XrayError('MODEL_INVALID', `model card: ${message}`);
}

/** Checks the card's own fields; returns it typed. */
export function parseModelCard(value: unknown): ModelCard {
  const card = value as ModelCard;
  if (!card || typeof card !== 'object') throw invalid('not a JSON object');
  for (const key of ['name', 'version', 'architecture', 'weightsSha256'] as const) {
    if (typeof card[key] !== 'string' || card[key].length === 0) throw invalid(`"${key}" must be a non-empty string`);
  }
  if (!/^[0-9a-f]{64}$/.test(card.weightsSha256)) throw invalid('"weightsSha256" must be 64 lowercase hex digits');
  if (!Array.isArray(card.labels) || card.labels.length < 2 || card.labels.some((l) => typeof l !== 'string' || !l)) {
    throw invalid('"labels" must list at least two non-empty names');
  }
  const p = card.preprocessing;
  if (!p || !Number.isInteger(p.width) || !Number.isInteger(p.height) || p.width < 1 || p.height < 1) {
    throw invalid('"preprocessing.width" and "preprocessing.height" must be positive integers');
  }
  if (p.channels !== 1 && p.channels !== 3) throw invalid('"preprocessing.channels" must be 1 or 3');
  if (!NORMALIZATIONS.includes(p.normalization))
    throw invalid(`"preprocessing.normalization" must be one of ${NORMALIZATIONS.join(', ')}`);
  if (!RESIZE_MODES.includes(p.resize))
    throw invalid(`"preprocessing.resize" must be one of ${RESIZE_MODES.join(', ')}`);
  if (p.rendering !== undefined && !RENDERINGS.includes(p.rendering))
    throw invalid(`"preprocessing.rendering" must be one of ${RENDERINGS.join(', ')}`);
  if (
    p.lowPassSigma !== undefined &&
    !(
      typeof p.lowPassSigma === 'number' &&
      p.lowPassSigma >= LOW_PASS_SIGMA_RANGE.min &&
      p.lowPassSigma <= LOW_PASS_SIGMA_RANGE.max
    )
  )
    throw invalid(
      `"preprocessing.lowPassSigma" must be a number from ${LOW_PASS_SIGMA_RANGE.min} to ${LOW_PASS_SIGMA_RANGE.max}`,
    );
  if (!card.gradcam || typeof card.gradcam.targetLayer !== 'string' || !card.gradcam.targetLayer) {
    throw invalid('"gradcam.targetLayer" must name a layer');
  }
  const b = card.bands;
  if (!b || !(b.orange >= 0 && b.orange <= b.green && b.green <= 1)) {
    throw invalid('"bands" must satisfy 0 <= orange <= green <= 1');
  }
  if (card.temperature !== undefined && !(card.temperature > 0 && Number.isFinite(card.temperature))) {
    throw invalid('"temperature" must be a positive number');
  }
  const tta = card.testTimeAugmentation;
  if (tta !== undefined && !TEST_TIME_AUGMENTATIONS.includes(tta)) {
    throw invalid(`"testTimeAugmentation" must be one of ${TEST_TIME_AUGMENTATIONS.join(', ')} when present`);
  }
  return card;
}

/** Checks that the card describes this network: input size, number of labels, explained layers. */
export function checkCardAgainstModel(card: ModelCard, model: tf.LayersModel): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw invalid(
      `the network must have one input and one output (has ${model.inputs.length} and ${model.outputs.length})`,
    );
  }
  const [, h, w, c] = model.inputs[0].shape;
  const p = card.preprocessing;
  if (h !== p.height || w !== p.width || c !== p.channels) {
    throw invalid(`preprocessing says ${p.height}x${p.width}x${p.channels} but the network takes ${h}x${w}x${c}`);
  }
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (units !== card.labels.length) {
    throw invalid(`${card.labels.length} labels for a network with ${units} outputs`);
  }
  const names = new Set(model.layers.map((l) => l.name));
  for (const layer of [card.gradcam.targetLayer, ...(card.gradcam.animationLayers ?? [])]) {
    if (!names.has(layer)) throw invalid(`Grad-CAM layer "${layer}" is not a layer of the network`);
    const shape = model.getLayer(layer).outputShape;
    if (!Array.isArray(shape) || shape.length !== 4 || Array.isArray(shape[0])) {
      throw invalid(`Grad-CAM layer "${layer}" must output one height x width x channels map`);
    }
  }
}
