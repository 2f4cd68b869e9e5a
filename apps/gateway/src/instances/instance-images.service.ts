import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { ERROR_CODES, type ErrorCode } from '@xray/shared';
import { renderingKey, type ObjectStore } from '@xray/storage';
import { findInstanceImageKeys, type InstanceImageKeys } from '@xray/db';
import { DATA_SOURCE, OBJECT_STORE } from '@xray/pipeline';
import type { DataSource } from 'typeorm';
import { ApiError, notFound } from '../errors/api-error';

export type ImageKind = 'image' | 'heatmap' | 'overlay';

/**
 * The PNGs of an instance: its 8-bit rendering and its Grad-CAM++ maps, all made by the
 * workers. Nothing is decoded here: a hostile file (a deflate bomb) must not reach the
 * gateway's event loop. Not rendered yet: 409 NOT_READY; failed: 422 with the stored error.
 */
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
    if (kind === 'image') return this.rendering(clientId, keys);
    const key = kind === 'heatmap' ? keys.heatmapKey : keys.overlayKey;
    if (!key) throw notFound(`The ${kind} is not ready yet.`);
    return this.store.getStream(key);
  }

  /** The rendering the inference worker stored as it decoded the original. */
  private async rendering(clientId: string, keys: InstanceImageKeys): Promise<Readable> {
    const key = renderingKey(clientId, keys.studyId, keys.id);
    if (await this.store.exists(key)) return this.store.getStream(key);
    if (keys.status === 'failed') {
      const code = (keys.errorCode && keys.errorCode in ERROR_CODES ? keys.errorCode : 'CORRUPT_FILE') as ErrorCode;
      throw new ApiError(422, code, keys.errorMessage ?? ERROR_CODES[code]);
    }
    throw new ApiError(409, 'NOT_READY', 'The image is not rendered yet; retry once the instance is classified.', {
      'Retry-After': '2',
    });
  }
}
