import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { StudyDto, StudyPage } from '@xray/shared';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { AuditService } from '../audit/audit.service';
import { parseLimit } from './cursor';
import { StudiesService } from './studies.service';

@ApiTags('studies')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('v1/studies')
export class StudiesController {
  constructor(
    private readonly studies: StudiesService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Submit a study: one or more DICOM, PNG or JPEG files (detected by content).' })
  @ApiConsumes('multipart/form-data')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'The same key from the same client returns the same study (200).',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['files'],
      properties: {
        files: { type: 'array', items: { type: 'string', format: 'binary' } },
        callbackUrl: { type: 'string', format: 'uri', description: 'http(s) URL for signed webhooks' },
        accessionNumber: { type: 'string', maxLength: 64 },
        priority: { type: 'string', enum: ['routine', 'stat'], default: 'routine' },
      },
    },
  })
  @ApiResponse({ status: 202, description: 'Accepted; `Location` points at the study.' })
  @ApiResponse({ status: 200, description: 'Idempotent replay: the study created earlier with this Idempotency-Key.' })
  @ApiResponse({ status: 413, description: 'A file or the number of files exceeds the limit.' })
  @ApiResponse({ status: 415, description: 'A file is not DICOM, PNG or JPEG.' })
  async submit(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StudyDto> {
    const { created, study } = await this.studies.submit(req, principal);
    if (created) await this.audit.record(principal, 'study.create', study.id, req.ip);
    res.status(created ? 202 : 200).location(`/v1/studies/${study.id}`);
    return study;
  }

  @Get()
  @ApiOperation({ summary: 'Studies, newest first, cursor-paginated.' })
  @ApiQuery({ name: 'limit', required: false, description: '1-100, default 20' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiQuery({ name: 'status', required: false, enum: ['queued', 'processing', 'classified', 'done', 'failed'] })
  @ApiQuery({ name: 'label', required: false, description: 'only studies with an image predicted as this body part' })
  @ApiQuery({ name: 'accession', required: false, description: 'accession number prefix' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
    @Query('status') status?: string,
    @Query('label') label?: string,
    @Query('accession') accession?: string,
  ): Promise<StudyPage> {
    const page = await this.studies.list(principal.clientId, {
      limit: parseLimit(limit),
      cursor,
      status,
      label,
      accession,
    });
    await this.audit.record(principal, 'study.list', null, req.ip);
    return page;
  }

  @Get(':id')
  @ApiOperation({ summary: 'A study with its instances, predictions and explanations.' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Req() req: Request): Promise<StudyDto> {
    const study = await this.studies.view(principal.clientId, id);
    await this.audit.record(principal, 'study.read', id, req.ip);
    return study;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a study, its results and its stored images.' })
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Req() req: Request): Promise<void> {
    await this.studies.remove(principal.clientId, id);
    await this.audit.record(principal, 'study.delete', id, req.ip);
  }
}
