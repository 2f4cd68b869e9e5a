import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { listDicomDeliveries, reopenFailedDicomDelivery, type DicomDeliveryStatus } from '@xray/db';
import { DATA_SOURCE, DICOM_EXPORT_QUEUE, enqueueDicomExport, type TypedQueue } from '@xray/pipeline';
import type { DataSource } from 'typeorm';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { invalid, notFound } from '../errors/api-error';
import { decodeCursor, encodeCursor, parseLimit } from '../studies/cursor';
import type { DicomDeliveryDto } from '@xray/shared';
import { dicomDeliveryView } from './dicom-views';

const STATUSES: DicomDeliveryStatus[] = ['pending', 'delivered', 'failed'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The DICOM export log: one delivery per object and destination. A client sees its own; an admin key every client's. */
@ApiTags('dicom')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('v1/exports')
export class DicomExportsController {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(DICOM_EXPORT_QUEUE) private readonly queue: TypedQueue<'dicom-export'>,
  ) {}

  @Get()
  @ApiOperation({ summary: 'DICOM object deliveries, newest first (filter by study, destination, status).' })
  @ApiQuery({ name: 'study', required: false, description: 'study id' })
  @ApiQuery({ name: 'destination', required: false, description: 'destination id (`xray destination list`)' })
  @ApiQuery({ name: 'status', required: false, enum: STATUSES })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async list(
    @CurrentPrincipal() p: Principal,
    @Query('study') studyId?: string,
    @Query('destination') destinationId?: string,
    @Query('status') status?: string,
    @Query('limit') rawLimit?: string,
    @Query('cursor') rawCursor?: string,
  ): Promise<{ items: DicomDeliveryDto[]; nextCursor: string | null }> {
    const limit = parseLimit(rawLimit);
    if (status && !STATUSES.includes(status as DicomDeliveryStatus))
      throw invalid(`status must be one of ${STATUSES.join(', ')}`);
    if (studyId && !UUID.test(studyId)) throw invalid('study must be a study id');
    if (destinationId && !UUID.test(destinationId)) throw invalid('destination must be a destination id');
    const rows = await listDicomDeliveries(this.ds, {
      clientId: p.kind === 'admin' ? undefined : p.clientId,
      studyId,
      destinationId,
      status: status as DicomDeliveryStatus | undefined,
      before: rawCursor ? decodeCursor(rawCursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(dicomDeliveryView),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.cursorAt, id: last.id }) : null,
    };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a failed delivery again, with a fresh retry schedule.' })
  async retry(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    if (!UUID.test(id)) throw notFound('Export not found.');
    const reopened = await reopenFailedDicomDelivery(this.ds, id, p.kind === 'admin' ? undefined : p.clientId);
    if (!reopened) throw notFound('No failed export with this id.');
    await enqueueDicomExport(this.queue, reopened, { retry: true });
    return { id, status: 'pending' };
  }
}
