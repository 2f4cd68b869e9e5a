import type { Readable } from 'node:stream';
import { Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CONFIG } from '@xray/pipeline';
import type { AppConfig } from '@xray/platform';
import type { ExplanationLayersDto } from '@xray/shared';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { AuditService } from '../audit/audit.service';
import { ExplanationsService, type AnimationFormat } from './explanations.service';

/** The Grad-CAM++ maps across the network's depth (per-layer heatmaps: InstancesController's /heatmap?layer=). */
@ApiTags('instances')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('v1/instances')
export class ExplanationsController {
  constructor(
    private readonly explanations: ExplanationsService,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':id/explanations')
  @ApiOperation({
    summary:
      'The layers explained (the target layer and the animation layers, shallowest first): map shape, peak cell, depth (404 until explained).',
  })
  @ApiResponse({ status: 200, description: 'ExplanationLayersDto (libs/shared/src/explanations.ts).' })
  async list(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Req() req: Request,
  ): Promise<ExplanationLayersDto> {
    const layers = await this.explanations.list(p.clientId, id, this.config.publicUrl);
    await this.audit.record(p, 'instance.explanations.read', id, req.ip);
    return layers;
  }

  @Get(':id/animation')
  @ApiProduces('image/webp', 'image/gif')
  @ApiHeader({ name: 'Accept', required: false, description: '`image/gif` for a GIF; otherwise animated WebP.' })
  @ApiOperation({
    summary: `The Grad-CAM++ overlays across the animation layers as an animated WebP or GIF (longest side at most 384 px; 404 until explained).`,
  })
  async animation(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const format = animationFormat(req.headers.accept);
    const stream = await this.explanations.animation(p.clientId, id, format);
    await this.audit.record(p, 'instance.animation.read', id, req.ip);
    send(res, stream, `image/${format}`);
  }
}

/** WebP unless the client names GIF and not WebP (browsers list image/webp; a GIF-only client asks for GIF). */
function animationFormat(accept = ''): AnimationFormat {
  return /image\/gif/i.test(accept) && !/image\/webp/i.test(accept) ? 'gif' : 'webp';
}

export function send(res: Response, stream: Readable, type: string): void {
  res.status(200).type(type).set('Cache-Control', 'private, max-age=300').set('Vary', 'Accept');
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
