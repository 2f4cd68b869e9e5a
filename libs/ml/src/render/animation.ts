import sharp from 'sharp';
import { XrayError } from '@xray/shared';
import { decodeLayerMaps } from '../gradcam/layer-maps-file';
import { renderAnimation, renderHeatmapPng, type GreyImage } from './heatmap';

/** Longest side of the animation's frames: a preview, a few hundred KB at most. */
export const ANIMATION_MAX_SIDE = 384;

/** An 8-bit greyscale PNG (the instance's stored rendering) as raw pixels. */
export async function greyFromPng(png: Uint8Array): Promise<GreyImage> {
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data), width: info.width, height: info.height };
}

/** The animation across depth (the animation layers, shallowest first) over the image, at most ANIMATION_MAX_SIDE. */
export async function renderLayerMapsAnimation(
  layerMaps: Uint8Array,
  imagePng: Uint8Array,
  format: 'webp' | 'gif',
): Promise<Buffer> {
  const maps = decodeLayerMaps(layerMaps);
  const frames = maps.maps.filter((m) => maps.animationLayers.includes(m.layer));
  if (!frames.length) throw new XrayError('NOT_FOUND', 'The model has no animation layers.');
  const spec = { ...maps.header.preprocessing, channels: 3 as const, normalization: 'minus1to1' as const };
  return renderAnimation(frames, spec, await greyFromPng(imagePng), { format, maxSide: ANIMATION_MAX_SIDE });
}

/** One layer's heatmap PNG at the explained image's size; undefined when the object has no map at that layer. */
export async function renderLayerHeatmap(layerMaps: Uint8Array, layer: string): Promise<Buffer | undefined> {
  const maps = decodeLayerMaps(layerMaps);
  const map = maps.maps.find((m) => m.layer === layer);
  if (!map) return undefined;
  const spec = { ...maps.header.preprocessing, channels: 3 as const, normalization: 'minus1to1' as const };
  return renderHeatmapPng(map, spec, maps.header.image);
}
