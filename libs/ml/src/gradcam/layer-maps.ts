import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import type { GradCamMap } from '../engine';
import { camFromGradients } from './gradcam-plus-plus';
import type { SplitModel } from './split-model';

/** One layer's Grad-CAM++ map, with where the layer sits in the network. */
export interface LayerMap extends GradCamMap {
  /** Index of the layer in the network's layer list (topological order): its depth. */
  depth: number;
}

/** An instance's maps across the network's depth, shallowest first. */
export interface LayerMaps {
  classIndex: number;
  /** The card's target layer (the heatmap's). */
  targetLayer: string;
  /** Layers in the animation, shallowest first (the card's animation layers or the architecture's defaults). */
  animationLayers: string[];
  /** Number of layers in the network (depth runs 0 .. layerCount - 1). */
  layerCount: number;
  maps: LayerMap[];
}

/** Refuses a class index the card has no label for. */
export function assertClassIndex(labels: string[], classIndex: number | undefined): void {
  if (classIndex !== undefined && !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < labels.length))
    throw new XrayError('VALIDATION_FAILED', `class index ${classIndex} is outside 0..${labels.length - 1}`);
}

/** The target layer and the animation layers, once each, in network order (unknown names are refused). */
export function layersByDepth(layerNames: string[], targetLayer: string, animationLayers: string[]): string[] {
  const wanted = new Set([targetLayer, ...animationLayers]);
  for (const name of wanted)
    if (!layerNames.includes(name))
      throw new XrayError('MODEL_INVALID', `Grad-CAM layer "${name}" is not a layer of the network`);
  return layerNames.filter((name) => wanted.has(name));
}

/** Puts engine maps (any order) into a LayerMaps, depth from the network's layer names. */
export function toLayerMaps(
  maps: GradCamMap[],
  layerNames: string[],
  targetLayer: string,
  animationLayers: string[],
): LayerMaps {
  const depth = new Map(layerNames.map((name, i) => [name, i]));
  const withDepth = maps.map((m) => {
    const d = depth.get(m.layer);
    if (d === undefined)
      throw new XrayError('MODEL_INVALID', `Grad-CAM layer "${m.layer}" is not a layer of the network`);
    return { ...m, depth: d };
  });
  withDepth.sort((a, b) => a.depth - b.depth);
  const present = new Set(maps.map((m) => m.layer));
  return {
    classIndex: maps[0]?.classIndex ?? -1,
    targetLayer,
    animationLayers: layerNames.filter((name) => animationLayers.includes(name) && present.has(name)),
    layerCount: layerNames.length,
    maps: withDepth,
  };
}

/**
 * Grad-CAM++ at the split layer and at each of the split's taps, from ONE backward pass to the
 * split layer: zero offsets added at the taps are differentiated alongside the split layer's
 * activation, and d logit / d offset is d logit / d tap output. Returns [N,h,w] maps, split
 * layer first, then the taps in network order; all in [0, 1].
 */
export function gradCamAcrossLayers(
  split: SplitModel,
  input: tf.Tensor4D,
  classIndices?: number[],
): { maps: tf.Tensor3D[]; classIndices: number[] } {
  const tapped: tf.Tensor4D[] = [];
  try {
    return tf.tidy(() => {
      const { activation, externals } = split.head(input);
      // Forward once to find the explained classes and the taps' shapes (cheap next to the backward pass).
      const shapes: number[][] = [];
      const logits = split.tailWithTaps(activation, externals, [], (i, output) => (shapes[i] = output.shape));
      const chosen = classIndices ?? Array.from(tf.argMax(logits, 1).dataSync());
      const mask = tf.oneHot(tf.tensor1d(chosen, 'int32'), logits.shape[1]);
      const offsets = shapes.map((shape) => tf.zeros(shape));
      const grads = tf.grads((a: tf.Tensor, ...z: tf.Tensor[]) =>
        tf.sum(
          tf.mul(
            split.tailWithTaps(a as tf.Tensor4D, externals, z, (i, output) => (tapped[i] = tf.keep(output))),
            mask,
          ),
        ),
      )([activation, ...offsets]) as tf.Tensor4D[];
      const maps = [activation, ...tapped].map((a, i) => camFromGradients(a, grads[i]));
      return { maps, classIndices: chosen };
    }) as { maps: tf.Tensor3D[]; classIndices: number[] };
  } finally {
    tf.dispose(tapped);
  }
}
