import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { ERROR_CODES, type ErrorCode } from '@xray/shared';
import { renderingKey, type ObjectStore } from '@xray/storage';
import type { DataSource } from 'typeorm';
import { ApiError, notFound } from '../errors/api-error';
import { DATA_SOURCE, OBJECT_STORE } from '@xray/platform';

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
    const [row] = await this.ds.query(
      `SELECT i.id, i.study_id, i.status, i.error_code, i.error_message, e.heatmap_key, e.overlay_key
         FROM instances i
         LEFT JOIN LATERAL (SELECT id FROM predictions WHERE instance_id = i.id ORDER BY created_at DESC LIMIT 1) p ON true
         LEFT JOIN explanations e ON e.prediction_id = p.id AND e.status = 'done'
        WHERE i.id = $1 AND i.client_id = $2`,
      [instanceId, clientId],
    );
    if (!row) throw notFound('Instance not found.');
    if (kind === 'image') return this.rendering(clientId, row);
    const key: string | null = kind === 'heatmap' ? row.heatmap_key : row.overlay_key;
    if (!key) throw notFound(`The ${kind} is not ready yet.`);
    return this.store.getStream(key);
  }

  /** The rendering the inference worker stored as it decoded the original. */
  private async rendering(
    clientId: string,
    row: { id: string; study_id: string; status: string; error_code: string | null; error_message: string | null },
  ): Promise<Readable> {
    const key = renderingKey(clientId, row.study_id, row.id);
    if (await this.store.exists(key)) return this.store.getStream(key);
    if (row.status === 'failed') {
      const code = (row.error_code && row.error_code in ERROR_CODES ? row.error_code : 'CORRUPT_FILE') as ErrorCode;
      throw new ApiError(422, code, row.error_message ?? ERROR_CODES[code]);
    }
    throw new ApiError(409, 'NOT_READY', 'The image is not rendered yet; retry once the instance is classified.', {
      'Retry-After': '2',
    });
  }
}
