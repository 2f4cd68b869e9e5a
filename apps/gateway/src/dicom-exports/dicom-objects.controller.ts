import { Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  findDicomObject,
  isStudyOwnedBy,
  listDicomDeliveries,
  listStudyDicomObjects,
  loadStudyRecords,
} from '@xray/db';
import {
  CONFIG,
  DATA_SOURCE,
  OBJECT_STORE,
  StudyObjectsBuilder,
  dicomObjectRefView,
  planStudyObjects,
} from '@xray/pipeline';
import type { AppConfig } from '@xray/platform';
import type { StudyDicomDto } from '@xray/shared';
import type { ObjectStore } from '@xray/storage';
import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { notFound } from '../errors/api-error';
import { dicomDeliveryView } from './dicom-views';

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** The DICOM result objects (Comprehensive SR, Grad-CAM++ Secondary Captures) of a client's studies. */
@ApiTags('dicom')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('v1')
export class DicomObjectsController {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly audit: AuditService,
    private readonly builder: StudyObjectsBuilder,
  ) {}

  @Get('studies/:id/dicom')
  @ApiOperation({
    summary:
      "A study's DICOM result objects with their delivery status per destination (empty until the study completed).",
  })
  async studyObjects(@CurrentPrincipal() p: Principal, @Param('id') studyId: string): Promise<StudyDicomDto> {
    if (!/^[0-9a-f-]{36}$/i.test(studyId) || !(await isStudyOwnedBy(this.ds, studyId, p.clientId)))
      throw notFound('Study not found.');
    const [objects, deliveries, [record]] = await Promise.all([
      listStudyDicomObjects(this.ds, studyId),
      listDicomDeliveries(this.ds, { studyId, limit: 10_000 }),
      loadStudyRecords(this.ds, [studyId]),
    ]);
    const plan = objects.length > 0 ? planStudyObjects(record) : undefined;
    return {
      studyInstanceUid: plan?.studyInstanceUid ?? null,
      objects: objects.map((o) => ({
        ...dicomObjectRefView(o, this.config.publicUrl),
        built: o.objectKey !== null,
        deliveries: deliveries
          .filter((d) => d.sopInstanceUid === o.sopInstanceUid)
          .reverse()
          .map((d) => {
            const { studyId: _s, sopInstanceUid: _u, kind: _k, instanceId: _i, ...delivery } = dicomDeliveryView(d);
            return delivery;
          }),
      })),
    };
  }

  @Get('dicom-objects/:sopInstanceUid')
  @ApiProduces('application/dicom')
  @ApiOperation({
    summary:
      'A DICOM result object as a Part 10 file (built on first read when no export built it yet; 404 when not yours).',
  })
  async object(
    @CurrentPrincipal() p: Principal,
    @Param('sopInstanceUid') uid: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const object = UID.test(uid) && uid.length <= 64 ? await findDicomObject(this.ds, uid, p.clientId) : undefined;
    if (!object) throw notFound('DICOM object not found.');
    // Objects are built by the first export; a client without destinations gets them built on first read.
    const key =
      object.objectKey ??
      (await this.builder.ensureBuilt(object.clientId, object.studyId)).find((o) => o.id === object.id)?.objectKey;
    if (!key) throw notFound('DICOM object not found.');
    const body = await this.store.getStream(key);
    await this.audit.record(p, 'dicom-object.read', uid, req.ip);
    res
      .status(200)
      .type('application/dicom')
      .set('Content-Disposition', `attachment; filename="${uid}.dcm"`)
      .set('Cache-Control', 'private, max-age=300');
    body.on('error', () => res.destroy());
    body.pipe(res);
  }
}
