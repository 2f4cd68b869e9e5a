import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { listDeliveries, reopenFailedDelivery, type DeliveryStatus } from '@xray/db';
import { DATA_SOURCE, WEBHOOK_QUEUE, enqueueWebhookDelivery, type TypedQueue } from '@xray/pipeline';
import type { DataSource } from 'typeorm';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { invalid, notFound } from '../errors/api-error';
import { decodeCursor, encodeCursor, parseLimit } from '../studies/cursor';

const STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed'];

export interface WebhookDeliveryDto {
  id: string;
  eventId: string;
  eventType: string;
  studyId: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: Array<{ attempt: number; statusCode: number | null; error: string | null; durationMs: number; at: string }>;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** Webhook deliveries and their attempts: a client sees its own; an admin key sees every client's. */
@ApiTags('webhooks')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard, RateLimitGuard)
@Controller('v1/webhook-deliveries')
export class DeliveriesController {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(WEBHOOK_QUEUE) private readonly queue: TypedQueue<'webhook'>,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Webhook deliveries, newest first, with every attempt.' })
  @ApiQuery({ name: 'status', required: false, enum: STATUSES })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async list(
    @CurrentPrincipal() p: Principal,
    @Query('status') status?: string,
    @Query('limit') rawLimit?: string,
    @Query('cursor') rawCursor?: string,
  ) {
    const limit = parseLimit(rawLimit);
    if (status && !STATUSES.includes(status as DeliveryStatus))
      throw invalid(`status must be one of ${STATUSES.join(', ')}`);
    const rows = await listDeliveries(this.ds, {
      clientId: p.kind === 'admin' ? undefined : p.clientId,
      status: status as DeliveryStatus | undefined,
      before: rawCursor ? decodeCursor(rawCursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ cursorAt: _, deliveredAt, createdAt, ...delivery }): WebhookDeliveryDto => ({
        ...delivery,
        deliveredAt: deliveredAt ? deliveredAt.toISOString() : null,
        createdAt: createdAt.toISOString(),
      })),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.cursorAt, id: last.id }) : null,
    };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a failed delivery again (same event id), with a fresh retry schedule.' })
  async retry(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('Delivery not found.');
    const reopened = await reopenFailedDelivery(this.ds, id, p.kind === 'admin' ? undefined : p.clientId);
    if (!reopened) throw notFound('No failed delivery with this id.');
    await enqueueWebhookDelivery(
      this.queue,
      { deliveryId: id, correlationId: reopened.correlationId },
      { retry: true },
    );
    return { id, status: 'pending' };
  }
}
