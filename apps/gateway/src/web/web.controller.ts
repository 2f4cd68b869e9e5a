import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WEB_ASSETS, WEB_CONTENT_SECURITY_POLICY, webDistDir, type WebAsset } from './web-assets';

/** Serves the web viewer (built by apps/web/build.mjs) at `/`. Public: the page signs in with an API key. */
@ApiExcludeController()
@Controller()
export class WebController {
  private readonly dir = webDistDir();

  @Get()
  index(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get('app.js')
  script(@Res() res: Response): void {
    this.send(res, 'app.js');
  }

  @Get('app.css')
  styles(@Res() res: Response): void {
    this.send(res, 'app.css');
  }

  @Get('app.js.map')
  scriptMap(@Res() res: Response): void {
    this.send(res, 'app.js.map');
  }

  @Get('app.css.map')
  stylesMap(@Res() res: Response): void {
    this.send(res, 'app.css.map');
  }

  private send(res: Response, asset: WebAsset): void {
    const file = path.join(this.dir, asset);
    if (!fs.existsSync(file)) {
      res
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .json({ error: { code: 'INTERNAL', message: 'The web viewer is not built: run `npm run build`.' } });
      return;
    }
    res.setHeader('Content-Type', WEB_ASSETS[asset]);
    res.setHeader('Content-Security-Policy', WEB_CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // No content hashes in the names: always revalidate (ETag) so a new build is picked up.
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(file);
  }
}
