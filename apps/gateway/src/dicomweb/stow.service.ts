import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  boundaryOf,
  DicomStatus,
  MultipartError,
  parseMultipartRelated,
  storeResponse,
  type StowResult,
} from '@xray/dicom';
import { CONFIG, DicomIngestService, LOGGER } from '@xray/pipeline';
import { currentCorrelationId, type AppConfig, type Logger } from '@xray/platform';
import type { Request, Response } from 'express';
import { ApiError, invalid } from '../errors/api-error';

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** The media type and its parameters, lower-cased names; quotes removed. */
function mediaType(header: string | undefined): { type: string; params: Record<string, string> } {
  const [type = '', ...rest] = (header ?? '').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '');
  }
  return { type: type.trim().toLowerCase(), params };
}

/** STOW-RS (PS3.18 10.5): streams each application/dicom part into the DicomIngestService, answers the store response. */
@Injectable()
export class StowService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly ingest: DicomIngestService,
  ) {}

  async store(req: Request, res: Response, clientId: string, studyInstanceUid?: string): Promise<void> {
    if (studyInstanceUid !== undefined && (!UID.test(studyInstanceUid) || studyInstanceUid.length > 64))
      throw invalid('StudyInstanceUID in the URL is not a UID');
    const contentType = req.headers['content-type'];
    const { type, params } = mediaType(contentType);
    if (type !== 'multipart/related')
      throw invalid('STOW-RS takes Content-Type: multipart/related; type="application/dicom"');
    if (params.type && params.type.toLowerCase() !== 'application/dicom')
      throw new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `only type="application/dicom" parts are accepted, not "${params.type}"`,
      );
    const boundary = boundaryOf(contentType!);
    if (!boundary) throw invalid('the multipart/related Content-Type has no boundary');

    const correlationId = currentCorrelationId() ?? randomUUID();
    const results: StowResult[] = [];
    const studyIds = new Set<string>();
    try {
      await parseMultipartRelated(req, boundary, async (part) => {
        const partType = mediaType(part.headers['content-type']).type;
        if (partType && partType !== 'application/dicom') {
          part.body.resume();
          results.push({ failureReason: DicomStatus.CannotUnderstand });
          return;
        }
        if (results.length >= this.config.maxFilesPerStudy) {
          part.body.resume();
          results.push({ failureReason: DicomStatus.OutOfResources });
          return;
        }
        const outcome = await this.ingest.storeInstance(clientId, part.body, {
          requiredStudyUid: studyInstanceUid,
          maxBytes: this.config.maxUploadBytes,
          correlationId,
        });
        const ref = { sopClassUid: outcome.header?.sopClassUid, sopInstanceUid: outcome.header?.sopInstanceUid };
        if (outcome.status === 'failed') {
          this.logger.info({ clientId, reason: outcome.reason, code: outcome.code }, 'STOW-RS instance refused');
          results.push({ ...ref, failureReason: outcome.code });
        } else {
          studyIds.add(outcome.studyId);
          results.push({ ...ref, retrieveUrl: `${this.config.publicUrl}/v1/studies/${outcome.studyId}` });
        }
      });
    } catch (error) {
      if (error instanceof MultipartError) throw invalid(`malformed multipart/related body: ${error.message}`);
      throw error;
    }
    const [onlyStudy] = studyIds.size === 1 ? [...studyIds] : [];
    const response = storeResponse(results, onlyStudy ? `${this.config.publicUrl}/v1/studies/${onlyStudy}` : undefined);
    res.status(response.status).type('application/dicom+json').send(JSON.stringify(response.body));
  }
}
