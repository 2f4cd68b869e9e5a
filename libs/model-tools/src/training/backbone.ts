import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { type Normalization, type Rendering, type ResizeMode, XrayError } from '@xray/shared';
import { loadBackbone } from '../architectures/backbone';
import type { TrainingBackbone } from './train-model';

export interface TrainingBackboneOptions {
  /** Layer to cut at; its output feeds global average pooling and the new head. */
  layer: string;
  normalization: Normalization;
  resize: ResizeMode;
  /** Grey-level treatment after the resize (default: the decoded rendering as it is). */
  rendering?: Rendering;
  /** Gaussian blur sigma (model-input pixels) after the resize; absent = none. */
  lowPassSigma?: number;
  /** Human-readable origin for the card, e.g. 'nsfwjs 4.3.0 MobileNetV2 (MIT)'. */
  name: string;
  /** Square input size to rebuild a fully convolutional backbone at (default: the backbone's own). */
  inputSize?: number;
}

/**
 * Loads a pretrained backbone (a tfjs LayersModel folder such as ../shared/models/nsfwjs-mobilenetv2,
 * or a Keras .h5/.keras file such as the Teachable Machine model) cut at `layer`, frozen. Its own
 * classifier head is never reused.
 */
export async function loadTrainingBackbone(
  source: string,
  options: TrainingBackboneOptions,
): Promise<TrainingBackbone> {
  const model = await loadBackbone(source, { layer: options.layer });
  return backboneFromModel(options.inputSize ? await withInputSize(model, options.inputSize) : model, options);
}

/**
 * The same network and weights with another square input size: the convolutions do not depend
 * on it (pretrained at 224, run at e.g. 320 to see more detail). The topology is rewritten and
 * rebuilt, so padding layers keep their configuration; use multiples of 32 for MobileNetV2.
 */
export async function withInputSize(model: tf.LayersModel, size: number): Promise<tf.LayersModel> {
  const [, height, width] = model.inputs[0].shape;
  if (height === size && width === size) return model;
  const topology = model.toJSON(null, false) as unknown as {
    config: { layers: { class_name: string; config: Record<string, unknown> }[] };
  };
  for (const layer of topology.config.layers) {
    if (layer.class_name !== 'InputLayer') continue;
    const shape = layer.config.batch_input_shape as (number | null)[];
    layer.config.batch_input_shape = [shape[0], size, size, shape[3]];
  }
  const resized = (await tf.models.modelFromJSON(
    topology as unknown as tf.io.ModelJSON['modelTopology'] as never,
  )) as tf.LayersModel;
  resized.setWeights(model.getWeights());
  model.dispose();
  return resized;
}

export async function backboneFromModel(
  model: tf.LayersModel,
  options: TrainingBackboneOptions,
): Promise<TrainingBackbone> {
  const [, height, width, channels] = model.inputs[0].shape;
  if (!height || !width || (channels !== 1 && channels !== 3)) {
    throw new XrayError(
      'VALIDATION_FAILED',
      `The backbone input must be a fixed height x width x 1|3 image (got ${model.inputs[0].shape.join('x')}).`,
    );
  }
  const hash = createHash('sha256').update(JSON.stringify(model.toJSON(null, false)));
  for (const weights of model.getWeights()) hash.update(Buffer.from((await weights.data()).buffer));
  for (const layer of model.layers) layer.trainable = false;
  return {
    model,
    id: hash.digest('hex'),
    name: options.name,
    layer: options.layer,
    spec: {
      width,
      height,
      channels,
      normalization: options.normalization,
      resize: options.resize,
      ...(options.rendering && options.rendering !== 'as-decoded' ? { rendering: options.rendering } : {}),
      ...(options.lowPassSigma ? { lowPassSigma: options.lowPassSigma } : {}),
    },
  };
}
