import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { decodeImage, renderPng } from '@xray/imaging';
import { isXrayError } from '@xray/shared';
import { renderingKey, type ObjectStore } from '@xray/storage';
import { findInstanceImageKeys } from '@xray/db';
import { DATA_SOURCE, OBJECT_STORE } from '@xray/pipeline';
import type { DataSource } from 'typeorm';
import { ApiError, notFound } from '../errors/api-error';

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
    const keys = await findInstanceImageKeys(this.ds, clientId, instanceId);
    if (!keys) throw notFound('Instance not found.');
    if (kind === 'image') return this.rendering(clientId, keys.studyId, keys.id, keys.objectKey);
    const key = kind === 'heatmap' ? keys.heatmapKey : keys.overlayKey;
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
