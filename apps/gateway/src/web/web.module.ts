import { Module } from '@nestjs/common';
import { WebController } from './web.controller';

/** The clinicians' web viewer, served at `/` by the gateway. */
@Module({ controllers: [WebController] })
export class WebModule {}
