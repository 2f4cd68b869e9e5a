import { createHash } from 'node:crypto';
import { clientKey } from './object-store';

/** Media type of the layer-maps object (format: libs/ml/src/gradcam/layer-maps-file.ts). */
export const LAYER_MAPS_CONTENT_TYPE = 'application/vnd.xray.layer-maps';

/**
 * Keys of an explanation's objects beside its heatmap: the maps across depth (written by the
 * explain worker) and the pictures the gateway draws from them once, on first request.
 */
export function layerMapsKey(clientId: string, studyId: string, instanceId: string, predictionId: string): string {
  return clientKey(clientId, 'studies', studyId, instanceId, `layers-${predictionId}.bin`);
}

export function animationKey(
  clientId: string,
  studyId: string,
  instanceId: string,
  predictionId: string,
  format: 'webp' | 'gif',
): string {
  return clientKey(clientId, 'studies', studyId, instanceId, `animation-${predictionId}.${format}`);
}

/** Layer names may hold characters a key segment may not (e.g. DenseNet's `conv1/relu`): hashed. */
export function layerHeatmapKey(
  clientId: string,
  studyId: string,
  instanceId: string,
  predictionId: string,
  layer: string,
): string {
  const tag = createHash('sha256').update(layer).digest('hex').slice(0, 16);
  return clientKey(clientId, 'studies', studyId, instanceId, `heatmap-${predictionId}-${tag}.png`);
}
