import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DATA_SOURCE, WEBHOOK_QUEUE, type TypedQueue } from '@xray/platform';
import type { DataSource } from 'typeorm';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RateLimitGuard } from '../auth/rate-limit.guard';
import { invalid, notFound } from '../errors/api-error';
import { decodeCursor, encodeCursor, parseLimit } from '../studies/cursor';

const STATUSES = ['pending', 'delivered', 'failed'];

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
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (v: unknown) => `$${params.push(v)}`;
    if (p.kind !== 'admin') where.push(`d.client_id = ${param(p.clientId)}`);
    if (status) {
      if (!STATUSES.includes(status)) throw invalid(`status must be one of ${STATUSES.join(', ')}`);
      where.push(`d.status = ${param(status)}`);
    }
    if (rawCursor) {
      const c = decodeCursor(rawCursor);
      where.push(`(d.created_at, d.id) < (${param(c.createdAt)}::timestamptz, ${param(c.id)}::uuid)`);
    }
    const rows = await this.ds.query(
      `SELECT d.id, d.event_id, e.type, e.study_id, d.url, d.status, d.last_error, d.delivered_at, d.created_at, d.created_at::text AS cursor_at,
              COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms, 'at', a.created_at) ORDER BY a.attempt)
                          FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempts
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY d.created_at DESC, d.id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r: any): WebhookDeliveryDto => ({
        id: r.id,
        eventId: r.event_id,
        eventType: r.type,
        studyId: r.study_id,
        url: r.url,
        status: r.status,
        attempts: r.attempts,
        lastError: r.last_error,
        deliveredAt: r.delivered_at ? new Date(r.delivered_at).toISOString() : null,
        createdAt: new Date(r.created_at).toISOString(),
      })),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.cursor_at, id: last.id }) : null,
    };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a failed delivery again (same event id), with a fresh retry schedule.' })
  async retry(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('Delivery not found.');
    // The study's correlation id, so the retry's logs join the study's trail.
    const [[row]] = await this.ds.query(
      `UPDATE webhook_deliveries d SET status = 'pending', updated_at = now()
         FROM webhook_events e JOIN studies s ON s.id = e.study_id
        WHERE d.id = $1 AND d.status = 'failed' AND ($2::uuid IS NULL OR d.client_id = $2) AND e.id = d.event_id
        RETURNING s.correlation_id`,
      [id, p.kind === 'admin' ? null : p.clientId],
    );
    if (!row) throw notFound('No failed delivery with this id.');
    await this.queue.add(
      'deliver',
      { deliveryId: id, correlationId: row.correlation_id },
      { jobId: `${id}-retry-${Date.now()}` },
    );
    return { id, status: 'pending' };
  }
}
