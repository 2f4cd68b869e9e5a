import { Module } from '@nestjs/common';
import { WebhookHandler } from '@xray/pipeline';
import { DeliveriesController } from './deliveries.controller';
import { WebhookProcessor } from './webhook.processor';

@Module({ controllers: [DeliveriesController], providers: [WebhookHandler, WebhookProcessor] })
export class WebhooksModule {}
