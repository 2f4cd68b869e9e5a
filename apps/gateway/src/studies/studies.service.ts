import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { deleteStudy, findStudyIdByIdempotencyKey, isStudyOwnedBy, listStudyIds, loadStudyRecords } from '@xray/db';
import {
  CONFIG,
  DATA_SOURCE,
  OBJECT_STORE,
  StudyIngestService,
  assertAllowedTarget,
  studyView,
  type NewStudy,
} from '@xray/pipeline';
import { currentCorrelationId, type AppConfig } from '@xray/platform';
import type { StudyDto, StudyPage, StudyStatus } from '@xray/shared';
import { clientKey, type ObjectStore } from '@xray/storage';
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal';
import { invalid, notFound } from '../errors/api-error';
import { decodeCursor, encodeCursor } from './cursor';
import { parseIdempotencyKey, parseStudyFields } from './study-fields';
import { UploadService } from './upload.service';

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
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly uploads: UploadService,
    private readonly ingest: StudyIngestService,
  ) {}

  /** Stores the upload, records the study and queues one inference job per image. `created` false = idempotent replay. */
  async submit(req: Request, principal: Principal): Promise<{ created: boolean; study: StudyDto }> {
    const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
    if (idempotencyKey) {
      const existing = await findStudyIdByIdempotencyKey(this.ds, principal.clientId, idempotencyKey);
      if (existing) {
        req.resume();
        return { created: false, study: await this.view(principal.clientId, existing) };
      }
    }
    const studyId = randomUUID();
    const { files, fields } = await this.uploads.receive(req, principal.clientId, studyId);
    const discard = () => this.store.deletePrefix(clientKey(principal.clientId, 'studies', studyId));
    let study: NewStudy;
    try {
      const { priority, accessionNumber, callbackUrl } = parseStudyFields(fields);
      if (callbackUrl)
        await assertAllowedTarget(callbackUrl, this.config.webhooks.allowPrivate).catch((error: Error) =>
          Promise.reject(invalid(error.message)),
        );
      const correlationId = currentCorrelationId() ?? randomUUID();
      study = {
        id: studyId,
        clientId: principal.clientId,
        priority,
        accessionNumber,
        callbackUrl,
        idempotencyKey,
        correlationId,
      };
    } catch (error) {
      await discard();
      throw error;
    }
    const instances = files.map(({ instanceId, ...file }) => ({ id: instanceId, ...file }));
    try {
      // The study is committed before its jobs are queued: if Redis fails then, QueueSweeper enqueues it later.
      await this.ingest.registerStudy(study, instances);
    } catch (error) {
      await discard();
      // Two concurrent requests with the same Idempotency-Key: the loser answers with the winner's study.
      if (idempotencyKey && (error as { code?: string }).code === '23505') {
        const winner = await findStudyIdByIdempotencyKey(this.ds, principal.clientId, idempotencyKey);
        if (winner) return { created: false, study: await this.view(principal.clientId, winner) };
      }
      throw error;
    }
    return { created: true, study: await this.view(principal.clientId, studyId) };
  }

  /** One client's study; 404 for any other client's (never 403: ids of others do not exist). */
  async view(clientId: string, studyId: string): Promise<StudyDto> {
    if (!/^[0-9a-f-]{36}$/i.test(studyId) || !(await isStudyOwnedBy(this.ds, studyId, clientId)))
      throw notFound('Study not found.');
    const [study] = await loadStudyRecords(this.ds, [studyId]);
    return studyView(study, this.config.publicUrl);
  }

  async list(clientId: string, query: ListQuery): Promise<StudyPage> {
    if (query.status && !STUDY_STATUSES.includes(query.status as StudyStatus))
      throw invalid(`status must be one of ${STUDY_STATUSES.join(', ')}`);
    const rows = await listStudyIds(this.ds, {
      clientId,
      status: query.status as StudyStatus | undefined,
      accessionPrefix: query.accession,
      label: query.label,
      before: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const records = await loadStudyRecords(
      this.ds,
      page.map((r) => r.id),
    );
    return {
      items: records.map((record) => studyView(record, this.config.publicUrl)),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  /** Deletes a study, its rows (cascade) and its objects. Jobs still queued for it are skipped by the workers. */
  async remove(clientId: string, studyId: string): Promise<void> {
    await this.view(clientId, studyId);
    await deleteStudy(this.ds, studyId, clientId);
    await this.store.deletePrefix(clientKey(clientId, 'studies', studyId));
  }
}
