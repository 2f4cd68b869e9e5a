import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import {
  findDicomObject,
  findInstanceBySopUid,
  findStudyIdByStudyUid,
  recordDicomInstance,
  setInstanceObjectKey,
} from '@xray/db';
import {
  DicomHeaderError,
  DicomStatus,
  isAcceptedImageSopClass,
  readHeaderPrefix,
  type DicomHeader,
  type StoreOutcome,
} from '@xray/dicom';
import type { AppConfig, Logger } from '@xray/platform';
import { clientKey, type ObjectStore } from '@xray/storage';
import type { DataSource } from 'typeorm';
import { CONFIG, DATA_SOURCE, LOGGER, OBJECT_STORE, STUDY_STABLE_QUEUE } from '../nest/tokens';
import type { TypedQueue } from '../queues';
import { enqueueStudyStable } from '../study-stable/study-stable.job';
import { StudyIngestService } from './study-ingest.service';

export type { StoreOutcome } from '@xray/dicom';

/** At most this much of an instance is held in memory to find its header; the rest streams to storage. */
export const MAX_HEADER_BYTES = 4 * 1024 * 1024;

export interface StoreOptions {
  /** Calling AE title (DIMSE), kept in the logs. */
  sourceAeTitle?: string;
  /** STOW-RS to /studies/{uid}: an instance of another study is refused. */
  requiredStudyUid?: string;
  /** Largest accepted instance; larger ones fail (the HTTP upload limit). */
  maxBytes?: number;
  correlationId?: string;
}

class TooLargeError extends Error {}

function limited(prefix: Buffer, rest: Readable, maxBytes: number): Readable {
  return Readable.from(
    (async function* () {
      let total = prefix.length;
      if (total > maxBytes) throw new TooLargeError(`the instance is larger than ${maxBytes} bytes`);
      yield prefix;
      for await (const chunk of rest) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) throw new TooLargeError(`the instance is larger than ${maxBytes} bytes`);
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

/**
 * The one door through which DICOM instances (DIMSE C-STORE and STOW-RS) enter the pipeline:
 * stores the Part 10 bytes unchanged, records the instance in its client's study (grouped by
 * StudyInstanceUID, deduplicated by SOPInstanceUID) and enqueues inference. It is the only
 * place that knows where studies are recorded and queued, so the pipeline can move under it.
 */
@Injectable()
export class DicomIngestService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(STUDY_STABLE_QUEUE) private readonly studyStable: TypedQueue<'study-stable'>,
    private readonly studies: StudyIngestService,
  ) {}

  /** Stores one Part 10 instance for a client. Never throws for a bad instance: it answers `failed` with a DICOM status. */
  async storeInstance(clientId: string, part10: Readable | Buffer, options: StoreOptions = {}): Promise<StoreOutcome> {
    const stream = Buffer.isBuffer(part10) ? Readable.from([part10]) : part10;
    let header: DicomHeader;
    let prefix: Buffer;
    try {
      ({ header, prefix } = await readHeaderPrefix(stream, MAX_HEADER_BYTES));
    } catch (error) {
      stream.resume();
      if (error instanceof DicomHeaderError)
        return { status: 'failed', code: DicomStatus.CannotUnderstand, reason: error.message };
      throw error;
    }
    const refuse = (code: number, reason: string): StoreOutcome => {
      stream.resume();
      return { status: 'failed', code, reason, header };
    };
    if (!isAcceptedImageSopClass(header.sopClassUid))
      return refuse(
        DicomStatus.SopClassNotSupported,
        `SOP class ${header.sopClassUid} is not an accepted image storage class`,
      );
    if (options.requiredStudyUid && header.studyInstanceUid !== options.requiredStudyUid)
      return refuse(
        DicomStatus.DataSetDoesNotMatchSopClass,
        `StudyInstanceUID ${header.studyInstanceUid} is not the study of the request (${options.requiredStudyUid})`,
      );

    const { ds, store, logger } = this;
    const known = await findInstanceBySopUid(ds, clientId, header.sopInstanceUid);
    if (known) {
      stream.resume();
      return { status: 'duplicate', studyId: known.studyId, instanceId: known.instanceId, header };
    }
    // One of our own results (a Grad-CAM++ SC) forwarded back with its study, as a PACS routing
    // the whole study does: classifying it would reopen the study and loop. Nothing new is stored.
    const own = await findDicomObject(ds, header.sopInstanceUid, clientId);
    if (own?.instanceId) {
      stream.resume();
      return { status: 'duplicate', studyId: own.studyId, instanceId: own.instanceId, header };
    }
    const instanceId = randomUUID();
    let studyId = (await findStudyIdByStudyUid(ds, clientId, header.studyInstanceUid)) ?? randomUUID();
    let objectKey = clientKey(clientId, 'studies', studyId, instanceId, 'original');
    let stored;
    try {
      stored = await store.put(objectKey, limited(prefix, stream, options.maxBytes ?? Infinity), 'application/dicom');
    } catch (error) {
      stream.resume();
      if (error instanceof TooLargeError)
        return { status: 'failed', code: DicomStatus.OutOfResources, reason: error.message, header };
      logger.error({ err: (error as Error).message, clientId }, 'storing a DICOM instance failed');
      return { status: 'failed', code: DicomStatus.OutOfResources, reason: 'the instance could not be stored', header };
    }
    const correlationId = options.correlationId ?? randomUUID();
    try {
      const recorded = await recordDicomInstance(ds, {
        clientId,
        proposedStudyId: studyId,
        study: { studyInstanceUid: header.studyInstanceUid, accessionNumber: header.accessionNumber },
        instance: {
          instanceId,
          sopInstanceUid: header.sopInstanceUid,
          filename: `${header.sopInstanceUid}.dcm`,
          objectKey,
          sha256: stored.sha256,
          size: stored.size,
        },
        correlationId,
      });
      if (recorded.duplicate) {
        // A concurrent re-send won the race: keep its copy.
        await store.delete(objectKey);
        const winner = await findInstanceBySopUid(ds, clientId, header.sopInstanceUid);
        return { status: 'duplicate', studyId: recorded.studyId, instanceId: winner?.instanceId ?? instanceId, header };
      }
      if (recorded.studyId !== studyId) {
        // Another sender created this study first under its own id: the object moves under that study's prefix.
        const movedKey = clientKey(clientId, 'studies', recorded.studyId, instanceId, 'original');
        await store.put(movedKey, await store.getStream(objectKey), 'application/dicom');
        await setInstanceObjectKey(ds, instanceId, movedKey);
        await store.delete(objectKey);
        studyId = recorded.studyId;
        objectKey = movedKey;
      }
    } catch (error) {
      await store.delete(objectKey).catch(() => undefined);
      logger.error({ err: (error as Error).message, clientId }, 'recording a DICOM instance failed');
      return {
        status: 'failed',
        code: DicomStatus.OutOfResources,
        reason: 'the instance could not be recorded',
        header,
      };
    }
    // Committed: the same enqueue as the HTTP upload (a Redis failure is left to the queue sweeper).
    await this.studies.enqueueInstances({ id: studyId, clientId, priority: 'routine', correlationId }, [
      { id: instanceId, objectKey },
    ]);
    // The study-stable rule: each new instance pushes the study's completion check back by the quiet time.
    await enqueueStudyStable(
      this.studyStable,
      { studyId, correlationId },
      this.config.dicom.studyStableSeconds * 1000,
    ).catch((error: Error) => logger.warn({ err: error.message, studyId }, 'scheduling the study-stable check failed'));
    logger.info(
      {
        studyId,
        instanceId,
        sopClassUid: header.sopClassUid,
        transferSyntaxUid: header.transferSyntaxUid,
        ae: options.sourceAeTitle,
      },
      'DICOM instance stored',
    );
    return { status: 'stored', studyId, instanceId, header };
  }
}
