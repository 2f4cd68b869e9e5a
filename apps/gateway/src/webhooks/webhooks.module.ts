import { Module } from '@nestjs/common';
import { DeliveriesController } from './deliveries.controller';
import { WebhookProcessor } from './webhook.processor';

@Module({ controllers: [DeliveriesController], providers: [WebhookProcessor] })
export class WebhooksModule {}
