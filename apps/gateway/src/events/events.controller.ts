import { Controller, Inject, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { STATUS_EVENT_PATTERN, type InstanceStatusEvent } from '@xray/shared';
import { DATA_SOURCE } from '@xray/pipeline';
import { filter, interval, map, merge, takeUntil, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { AllowQueryToken, ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { keyRevoked } from './revocation';
import { StatusBus } from './status-bus';

/** Receives InstanceStatusEvents from the workers (Redis transport). */
@Controller()
export class StatusEventsListener {
  constructor(private readonly bus: StatusBus) {}

  @EventPattern(STATUS_EVENT_PATTERN)
  onStatus(@Payload() event: InstanceStatusEvent): void {
    this.bus.next(event);
  }
}

/**
 * `GET /v1/events`: server-sent events of the caller's instances (`instance.status`).
 * EventSource cannot send headers, so this route alone also accepts `?access_token=<api key>`.
 * Revoking or rotating the key closes its open streams within seconds.
 */
@ApiTags('events')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class EventsController {
  constructor(
    private readonly bus: StatusBus,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  @Sse('events')
  @AllowQueryToken()
  @ApiOperation({ summary: 'Live instance status changes of this client (server-sent events).' })
  @ApiQuery({
    name: 'access_token',
    required: false,
    description: 'API key, for EventSource clients that cannot send Authorization',
  })
  events(@CurrentPrincipal() principal: Principal): Observable<MessageEvent> {
    const updates = this.bus.pipe(
      filter((e) => e.clientId === principal.clientId),
      map((e): MessageEvent => ({
        type: 'instance.status',
        data: { studyId: e.studyId, instanceId: e.instanceId, status: e.status, at: e.at },
      })),
    );
    // A comment-like keep-alive so proxies do not close an idle stream.
    const keepAlive = interval(20_000).pipe(map((): MessageEvent => ({ type: 'ping', data: '' })));
    return merge(updates, keepAlive).pipe(takeUntil(keyRevoked(this.ds, principal.apiKeyId)));
  }
}
