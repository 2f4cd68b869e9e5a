import { Controller, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { StowService } from './stow.service';

@ApiTags('dicomweb')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('dicomweb/studies')
export class StowController {
  constructor(private readonly stow: StowService) {}

  @Post()
  @ApiOperation({ summary: 'STOW-RS: store DICOM instances (multipart/related; type="application/dicom").' })
  @ApiConsumes('multipart/related')
  @ApiResponse({ status: 200, description: 'All instances stored (application/dicom+json store response).' })
  @ApiResponse({ status: 202, description: 'Some instances failed (FailedSOPSequence says which and why).' })
  @ApiResponse({ status: 409, description: 'No instance stored.' })
  @ApiResponse({ status: 400, description: 'The body is not multipart/related.' })
  @ApiResponse({ status: 415, description: 'The parts are not application/dicom.' })
  async store(@Req() req: Request, @Res() res: Response, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.stow.store(req, res, principal.clientId);
  }

  @Post(':studyInstanceUid')
  @ApiOperation({ summary: 'STOW-RS into one study: instances of any other StudyInstanceUID fail (0xA900).' })
  @ApiConsumes('multipart/related')
  async storeInStudy(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentPrincipal() principal: Principal,
    @Param('studyInstanceUid') studyInstanceUid: string,
  ): Promise<void> {
    await this.stow.store(req, res, principal.clientId, studyInstanceUid);
  }
}
