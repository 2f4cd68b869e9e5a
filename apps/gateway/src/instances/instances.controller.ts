import { Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { AuditService } from '../audit/audit.service';
import { ExplanationsService } from './explanations.service';
import { send } from './explanations.controller';
import { InstanceImagesService, type ImageKind } from './instance-images.service';

@ApiTags('instances')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('v1/instances')
export class InstancesController {
  constructor(
    private readonly images: InstanceImagesService,
    private readonly explanations: ExplanationsService,
    private readonly audit: AuditService,
  ) {}

  @Get(':id/image')
  @ApiProduces('image/png')
  @ApiOperation({ summary: 'The 8-bit greyscale rendering the model saw (before resizing), as PNG.' })
  image(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Req() req: Request, @Res() res: Response) {
    return this.send(p, id, 'image', req, res);
  }

  @Get(':id/heatmap')
  @ApiProduces('image/png')
  @ApiOperation({ summary: 'The Grad-CAM++ heatmap, as PNG (404 until explained).' })
  @ApiQuery({
    name: 'layer',
    required: false,
    description: 'A layer of GET /v1/instances/{id}/explanations: its heatmap (default: the target layer, as stored)',
  })
  async heatmap(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
    @Query('layer') layer?: string,
  ) {
    if (layer === undefined) return this.send(p, id, 'heatmap', req, res);
    const png = await this.explanations.layerHeatmap(p.clientId, id, String(layer));
    await this.audit.record(p, 'instance.heatmap.read', id, req.ip);
    send(res, png, 'image/png');
  }

  @Get(':id/overlay')
  @ApiProduces('image/png')
  @ApiOperation({ summary: 'The heatmap blended over the image, as PNG (404 until explained).' })
  overlay(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Req() req: Request, @Res() res: Response) {
    return this.send(p, id, 'overlay', req, res);
  }

  private async send(principal: Principal, id: string, kind: ImageKind, req: Request, res: Response): Promise<void> {
    const png = await this.images.png(principal.clientId, id, kind);
    await this.audit.record(principal, `instance.${kind}.read`, id, req.ip);
    res.status(200).type('image/png').set('Cache-Control', 'private, max-age=300');
    png.on('error', () => res.destroy());
    png.pipe(res);
  }
}
