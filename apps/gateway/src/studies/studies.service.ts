import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { loadStudyViews } from '@xray/db';
import {
  CONFIG,
  DATA_SOURCE,
  INFERENCE_QUEUE,
  JOB_PRIORITY,
  LOGGER,
  OBJECT_STORE,
  currentCorrelationId,
  type AppConfig,
  type Logger,
  type TypedQueue,
  withDeadline,
} from '@xray/platform';
import type { StudyDto, StudyPage, StudyStatus } from '@xray/shared';
import { clientKey, type ObjectStore } from '@xray/storage';
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal';
import { invalid, notFound } from '../errors/api-error';
import { assertAllowedTarget } from '../webhooks/callback-url';
import { decodeCursor, encodeCursor } from './cursor';
import { parseIdempotencyKey, parseStudyFields } from './study-fields';
import { UploadService, type ReceivedFile } from './upload.service';

const STUDY_STATUSES: StudyStatus[] = ['queued', 'processing', 'classified', 'done', 'failed'];

export interface ListQuery {
  limit: number;
  cursor?: string;
  status?: string;
  label?: string;
  accession?: string;
}

@Injectable()
export class StudiesService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(INFERENCE_QUEUE) private readonly inference: TypedQueue<'inference'>,
    private readonly uploads: UploadService,
  ) {}

  /** Stores the upload, records the study and queues one inference job per image. `created` false = idempotent replay. */
  async submit(req: Request, principal: Principal): Promise<{ created: boolean; study: StudyDto }> {
    const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
    if (idempotencyKey) {
      const existing = await this.findByIdempotencyKey(principal.clientId, idempotencyKey);
      if (existing) {
        req.resume();
        return { created: false, study: await this.view(principal.clientId, existing) };
      }
    }
    const studyId = randomUUID();
    const { files, fields } = await this.uploads.receive(req, principal.clientId, studyId);
    const discard = () => this.store.deletePrefix(clientKey(principal.clientId, 'studies', studyId));
    let study: ReturnType<typeof parseStudyFields>;
    try {
      study = parseStudyFields(fields);
      if (study.callbackUrl)
        await assertAllowedTarget(study.callbackUrl, this.config.webhooks.allowPrivate).catch((error: Error) =>
          Promise.reject(invalid(error.message)),
        );
    } catch (error) {
      await discard();
      throw error;
    }
    const correlationId = currentCorrelationId() ?? randomUUID();
    try {
      await this.ds.transaction(async (em) => {
        await em.query(
          `INSERT INTO studies (id, client_id, status, priority, accession_number, callback_url, idempotency_key, correlation_id) VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7)`,
          [
            studyId,
            principal.clientId,
            study.priority,
            study.accessionNumber,
            study.callbackUrl,
            idempotencyKey,
            correlationId,
          ],
        );
        for (const f of files) {
          await em.query(
            `INSERT INTO instances (id, study_id, client_id, position, filename, status, format, object_key, sha256, size) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9)`,
            [
              f.instanceId,
              studyId,
              principal.clientId,
              f.position,
              f.filename,
              f.format,
              f.objectKey,
              f.sha256,
              f.size,
            ],
          );
        }
      });
    } catch (error) {
      await discard();
      // Two concurrent requests with the same Idempotency-Key: the loser answers with the winner's study.
      if (idempotencyKey && (error as { code?: string }).code === '23505') {
        const winner = await this.findByIdempotencyKey(principal.clientId, idempotencyKey);
        if (winner) return { created: false, study: await this.view(principal.clientId, winner) };
      }
      throw error;
    }
    // The study is committed: if Redis fails now, QueueSweeper enqueues it later, so still answer 202.
    // Bounded: a Redis outage must not hold the answer (the jobs are added when it is back, or swept).
    const enqueued = this.enqueue(files, studyId, principal.clientId, study.priority, correlationId);
    await withDeadline(enqueued, this.config.queueSweep.enqueueTimeoutMs, 'enqueue').catch((error: Error) =>
      this.logger.warn({ err: error.message, studyId }, 'enqueue failed; the queue sweeper will retry'),
    );
    this.logger.info({ studyId, instances: files.length, priority: study.priority }, 'study accepted');
    return { created: true, study: await this.view(principal.clientId, studyId) };
  }

  private async enqueue(
    files: ReceivedFile[],
    studyId: string,
    clientId: string,
    priority: 'routine' | 'stat',
    correlationId: string,
  ): Promise<void> {
    await this.inference.addBulk(
      files.map((f) => ({
        name: 'classify',
        data: { instanceId: f.instanceId, studyId, clientId, objectKey: f.objectKey, correlationId },
        // The instance id as job id: a repeated enqueue never makes a second job.
        opts: { jobId: f.instanceId, priority: JOB_PRIORITY[priority] },
      })),
    );
  }

  private async findByIdempotencyKey(clientId: string, key: string): Promise<string | undefined> {
    const [row] = await this.ds.query('SELECT id FROM studies WHERE client_id = $1 AND idempotency_key = $2', [
      clientId,
      key,
    ]);
    return row?.id;
  }

  /** One client's study; 404 for any other client's (never 403: ids of others do not exist). */
  async view(clientId: string, studyId: string): Promise<StudyDto> {
    if (!/^[0-9a-f-]{36}$/i.test(studyId)) throw notFound('Study not found.');
    const [owned] = await this.ds.query('SELECT id FROM studies WHERE id = $1 AND client_id = $2', [studyId, clientId]);
    if (!owned) throw notFound('Study not found.');
    const [study] = await loadStudyViews(this.ds, [studyId], this.config.publicUrl);
    return study;
  }

  async list(clientId: string, query: ListQuery): Promise<StudyPage> {
    const where = ['s.client_id = $1'];
    const params: unknown[] = [clientId];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (query.status) {
      if (!STUDY_STATUSES.includes(query.status as StudyStatus))
        throw invalid(`status must be one of ${STUDY_STATUSES.join(', ')}`);
      where.push(`s.status = ${param(query.status)}`);
    }
    if (query.accession)
      where.push(`s.accession_number ILIKE ${param(query.accession.replace(/[\\%_]/g, '\\$&') + '%')}`);
    if (query.label) {
      where.push(
        `EXISTS (SELECT 1 FROM instances i JOIN predictions p ON p.instance_id = i.id WHERE i.study_id = s.id AND p.label = ${param(query.label)})`,
      );
    }
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor);
      where.push(`(s.created_at, s.id) < (${param(cursor.createdAt)}::timestamptz, ${param(cursor.id)}::uuid)`);
    }
    const rows: Array<{ id: string; created_at: string }> = await this.ds.query(
      `SELECT s.id, s.created_at::text AS created_at FROM studies s WHERE ${where.join(' AND ')} ORDER BY s.created_at DESC, s.id DESC LIMIT ${param(query.limit + 1)}`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: await loadStudyViews(
        this.ds,
        page.map((r) => r.id),
        this.config.publicUrl,
      ),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    };
  }

  /** Deletes a study, its rows (cascade) and its objects. Jobs still queued for it are skipped by the workers. */
  async remove(clientId: string, studyId: string): Promise<void> {
    await this.view(clientId, studyId);
    await this.ds.query('DELETE FROM studies WHERE id = $1 AND client_id = $2', [studyId, clientId]);
    await this.store.deletePrefix(clientKey(clientId, 'studies', studyId));
  }
}
