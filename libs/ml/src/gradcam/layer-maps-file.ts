import type { PreprocessingSpec } from '@xray/shared';
import { XrayError } from '@xray/shared';
import type { LayerMap, LayerMaps } from './layer-maps';

/**
 * One instance's Grad-CAM++ maps across depth as one small object (a few KB): the raw maps,
 * so that pictures (per-layer heatmaps, the animation) can be drawn later at any size.
 *
 * Layout: "XRLM", a little-endian uint32 header length, the UTF-8 JSON header
 * (LayerMapsHeader), then each layer's map as uint8 (value = byte * scale, row-major),
 * at the offsets the header gives. Maps are normalised to [0, 1], so 8 bits lose at most 1/510.
 */
const MAGIC = 'XRLM';

export interface MapPeak {
  /** Column and row of the strongest cell, in map cells (0-based). */
  x: number;
  y: number;
  value: number;
}

export interface LayerMapEntry {
  name: string;
  depth: number;
  mapShape: [height: number, width: number];
  peak: MapPeak;
  offset: number;
  scale: number;
}

export interface LayerMapsHeader {
  format: 'xray-layer-maps';
  version: 1;
  classIndex: number;
  targetLayer: string;
  animationLayers: string[];
  layerCount: number;
  /** The explained image's size (the maps are drawn over it). */
  image: { width: number; height: number };
  preprocessing: Pick<PreprocessingSpec, 'width' | 'height' | 'resize'>;
  layers: LayerMapEntry[];
}

export interface DecodedLayerMaps extends LayerMaps {
  header: LayerMapsHeader;
}

/** The strongest cell (the first one on ties). */
export function mapPeak(map: Float32Array, width: number): MapPeak {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return { x: best % width, y: Math.floor(best / width), value: map[best] ?? 0 };
}

export function encodeLayerMaps(
  maps: LayerMaps,
  image: { width: number; height: number },
  spec: Pick<PreprocessingSpec, 'width' | 'height' | 'resize'>,
): Uint8Array {
  const scale = 1 / 255;
  let offset = 0;
  const layers = maps.maps.map((m): LayerMapEntry => {
    const entry = {
      name: m.layer,
      depth: m.depth,
      mapShape: m.mapShape,
      peak: mapPeak(m.map, m.mapShape[1]),
      offset,
      scale,
    };
    offset += m.map.length;
    return entry;
  });
  const header: LayerMapsHeader = {
    format: 'xray-layer-maps',
    version: 1,
    classIndex: maps.classIndex,
    targetLayer: maps.targetLayer,
    animationLayers: maps.animationLayers,
    layerCount: maps.layerCount,
    image: { width: image.width, height: image.height },
    preprocessing: { width: spec.width, height: spec.height, resize: spec.resize },
    layers,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + offset);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  maps.maps.forEach((m, i) => {
    const start = 8 + json.length + layers[i].offset;
    for (let j = 0; j < m.map.length; j++) out[start + j] = Math.round(Math.min(1, Math.max(0, m.map[j])) / scale);
  });
  return out;
}

export function decodeLayerMaps(bytes: Uint8Array): DecodedLayerMaps {
  const invalid = (why: string) => new XrayError('CORRUPT_FILE', `not an xray layer-maps object: ${why}`);
  if (bytes.length < 8 || Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== MAGIC) throw invalid('bad magic');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + length > bytes.length) throw invalid('truncated header');
  let header: LayerMapsHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString('utf8'));
  } catch {
    throw invalid('unreadable header');
  }
  if (header.format !== 'xray-layer-maps' || header.version !== 1) throw invalid(`unknown version ${header.version}`);
  const data = bytes.subarray(8 + length);
  const maps = header.layers.map((entry): LayerMap => {
    const size = entry.mapShape[0] * entry.mapShape[1];
    if (entry.offset + size > data.length) throw invalid(`truncated map for ${entry.name}`);
    const map = Float32Array.from(data.subarray(entry.offset, entry.offset + size), (q) => q * entry.scale);
    return { classIndex: header.classIndex, layer: entry.name, depth: entry.depth, mapShape: entry.mapShape, map };
  });
  return {
    header,
    classIndex: header.classIndex,
    targetLayer: header.targetLayer,
    animationLayers: header.animationLayers,
    layerCount: header.layerCount,
    maps,
  };
}
