import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { decodeImage, renderPng } from '@xray/imaging';
import { isXrayError } from '@xray/shared';
import { renderingKey, type ObjectStore } from '@xray/storage';
import type { DataSource } from 'typeorm';
import { ApiError, notFound } from '../errors/api-error';
import { DATA_SOURCE, OBJECT_STORE } from '@xray/platform';

export type ImageKind = 'image' | 'heatmap' | 'overlay';

/** The PNGs of an instance: its 8-bit rendering (cached in storage) and its Grad-CAM++ maps. */
@Injectable()
export class InstanceImagesService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async png(clientId: string, instanceId: string, kind: ImageKind): Promise<Readable> {
    if (!/^[0-9a-f-]{36}$/i.test(instanceId)) throw notFound('Instance not found.');
    const [row] = await this.ds.query(
      `SELECT i.id, i.study_id, i.object_key, e.heatmap_key, e.overlay_key
         FROM instances i
         LEFT JOIN LATERAL (SELECT id FROM predictions WHERE instance_id = i.id ORDER BY created_at DESC LIMIT 1) p ON true
         LEFT JOIN explanations e ON e.prediction_id = p.id AND e.status = 'done'
        WHERE i.id = $1 AND i.client_id = $2`,
      [instanceId, clientId],
    );
    if (!row) throw notFound('Instance not found.');
    if (kind === 'image') return this.rendering(clientId, row.study_id, row.id, row.object_key);
    const key: string | null = kind === 'heatmap' ? row.heatmap_key : row.overlay_key;
    if (!key) throw notFound(`The ${kind} is not ready yet.`);
    return this.store.getStream(key);
  }

  /** The inference worker stores the rendering as it decodes; render here only when it has not (yet). */
  private async rendering(
    clientId: string,
    studyId: string,
    instanceId: string,
    originalKey: string,
  ): Promise<Readable> {
    const key = renderingKey(clientId, studyId, instanceId);
    if (!(await this.store.exists(key))) {
      try {
        const image = await decodeImage(await this.store.getBuffer(originalKey));
        await this.store.put(key, await renderPng(image), 'image/png');
      } catch (error) {
        if (isXrayError(error)) throw new ApiError(422, error.code, error.message);
        throw error;
      }
    }
    return this.store.getStream(key);
  }
}
