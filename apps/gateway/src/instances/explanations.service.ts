import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { findInstanceImageKeys } from '@xray/db';
import { DATA_SOURCE, OBJECT_STORE } from '@xray/pipeline';
import type { ExplanationLayersDto } from '@xray/shared';
import {
  ObjectNotFoundError,
  animationKey,
  layerHeatmapKey,
  layerMapsKey,
  renderingKey,
  type ObjectStore,
} from '@xray/storage';
import type { DataSource } from 'typeorm';
import { notFound } from '../errors/api-error';

export type AnimationFormat = 'webp' | 'gif';

/** The ML library (tfjs, ONNX Runtime) loads only when a picture is first drawn, not at gateway start. */
const ml = () => import('@xray/ml');

/**
 * The Grad-CAM++ maps across the network's depth the explain worker stored with an
 * explanation: their list, per-layer heatmaps and the animation, drawn once and cached beside them.
 */
@Injectable()
export class ExplanationsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async list(clientId: string, instanceId: string, baseUrl: string): Promise<ExplanationLayersDto> {
    const { maps } = await this.layerMaps(clientId, instanceId);
    const { decodeLayerMaps } = await ml();
    const { header } = decodeLayerMaps(maps);
    const heatmapUrl = `${baseUrl}/v1/instances/${instanceId}/heatmap`;
    return {
      instanceId,
      classIndex: header.classIndex,
      targetLayer: header.targetLayer,
      layerCount: header.layerCount,
      animationUrl: `${baseUrl}/v1/instances/${instanceId}/animation`,
      layers: header.layers.map((layer, index) => ({
        name: layer.name,
        index,
        depth: layer.depth,
        mapShape: layer.mapShape,
        peak: layer.peak,
        target: layer.name === header.targetLayer,
        animation: header.animationLayers.includes(layer.name),
        heatmapUrl: `${heatmapUrl}?layer=${encodeURIComponent(layer.name)}`,
      })),
    };
  }

  async animation(clientId: string, instanceId: string, format: AnimationFormat): Promise<Readable> {
    const { ref, maps } = await this.layerMaps(clientId, instanceId);
    const key = animationKey(clientId, ref.studyId, instanceId, ref.predictionId, format);
    if (!(await this.store.exists(key))) {
      const image = await this.store.getBuffer(renderingKey(clientId, ref.studyId, instanceId));
      const { renderLayerMapsAnimation } = await ml();
      await this.store.put(key, await renderLayerMapsAnimation(maps, image, format), `image/${format}`);
    }
    return this.store.getStream(key);
  }

  async layerHeatmap(clientId: string, instanceId: string, layer: string): Promise<Readable> {
    const { ref, maps } = await this.layerMaps(clientId, instanceId);
    const key = layerHeatmapKey(clientId, ref.studyId, instanceId, ref.predictionId, layer);
    if (!(await this.store.exists(key))) {
      const { renderLayerHeatmap } = await ml();
      const png = await renderLayerHeatmap(maps, layer);
      if (!png) throw notFound(`The explanation has no map at layer '${layer}'.`);
      await this.store.put(key, png, 'image/png');
    }
    return this.store.getStream(key);
  }

  /** The caller's instance, the prediction its finished explanation belongs to, and the stored maps across depth. */
  private async layerMaps(
    clientId: string,
    instanceId: string,
  ): Promise<{ ref: { studyId: string; predictionId: string }; maps: Uint8Array }> {
    if (!/^[0-9a-f-]{36}$/i.test(instanceId)) throw notFound('Instance not found.');
    const keys = await findInstanceImageKeys(this.ds, clientId, instanceId);
    if (!keys) throw notFound('Instance not found.');
    const { studyId, explainedPredictionId: predictionId } = keys;
    if (!predictionId) throw notFound('The explanation is not ready yet.');
    try {
      const maps = new Uint8Array(
        await this.store.getBuffer(layerMapsKey(clientId, studyId, instanceId, predictionId)),
      );
      return { ref: { studyId, predictionId }, maps };
    } catch (error) {
      if (error instanceof ObjectNotFoundError)
        throw notFound('This explanation has no maps across depth (it was made before they were stored).');
      throw error;
    }
  }
}
