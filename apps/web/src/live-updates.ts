/**
 * Live status of the images being processed: server-sent events from /v1/events, with polling
 * of GET /v1/studies/:id whenever the event stream is not open (and, rarely, as a safety net).
 */
import type { InstanceStatusEvent, StudyDto } from '@xray/shared';
import type { ApiClient } from './api-client';

export type Connection = 'live' | 'polling';

export interface LiveUpdateHandlers {
  /** Unfinished studies worth watching. */
  activeStudyIds(): string[];
  onStatus(event: InstanceStatusEvent): void;
  onStudy(study: StudyDto): void;
  onConnection(connection: Connection): void;
}

const TICK_MS = 2000;
/** While the stream is open, poll only every this many ticks. */
const LIVE_POLL_TICKS = 10;
const EVENT_DEBOUNCE_MS = 150;
const REOPEN_MS = 10_000;

export class LiveUpdates {
  private source: EventSource | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reopenTimer: ReturnType<typeof setTimeout> | null = null;
  private ticks = 0;
  private connection: Connection = 'polling';
  private readonly inFlight = new Set<string>();
  private readonly stale = new Set<string>();
  private readonly debounce = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly api: ApiClient,
    private readonly handlers: LiveUpdateHandlers,
  ) {}

  start(): void {
    this.open();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    if (this.timer) clearInterval(this.timer);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    for (const t of this.debounce.values()) clearTimeout(t);
    this.debounce.clear();
  }

  /** Fetches a study now; calls for a study already being fetched run once more after it. */
  refresh(studyId: string): void {
    if (this.inFlight.has(studyId)) {
      this.stale.add(studyId);
      return;
    }
    this.inFlight.add(studyId);
    this.api
      .getStudy(studyId)
      .then(
        (study) => {
          // An event arrived while this answer was on its way: it may be older than that event.
          if (!this.stale.has(studyId)) this.handlers.onStudy(study);
        },
        () => undefined, // the next tick or event tries again
      )
      .finally(() => {
        this.inFlight.delete(studyId);
        if (this.stale.delete(studyId)) this.refresh(studyId);
      });
  }

  private open(): void {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource(this.api.eventsUrl());
    this.source = source;
    source.onopen = () => {
      this.setConnection('live');
      // Catch up on whatever happened while the stream was closed.
      for (const id of this.handlers.activeStudyIds()) this.refresh(id);
    };
    const onEvent = (message: MessageEvent<string>) => this.onEvent(message.data);
    source.onmessage = onEvent;
    source.addEventListener('instance.status', onEvent);
    source.onerror = () => {
      this.setConnection('polling');
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        this.reopenTimer = setTimeout(() => this.open(), REOPEN_MS);
      }
    };
  }

  private onEvent(data: string): void {
    let event: InstanceStatusEvent;
    try {
      event = JSON.parse(data) as InstanceStatusEvent;
    } catch {
      return; // keep-alive comments and unknown payloads
    }
    if (!event?.studyId || !event.instanceId) return;
    this.handlers.onStatus(event);
    clearTimeout(this.debounce.get(event.studyId));
    this.debounce.set(
      event.studyId,
      setTimeout(() => {
        this.debounce.delete(event.studyId);
        this.refresh(event.studyId);
      }, EVENT_DEBOUNCE_MS),
    );
  }

  private tick(): void {
    this.ticks++;
    if (this.connection === 'live' && this.ticks % LIVE_POLL_TICKS !== 0) return;
    for (const id of this.handlers.activeStudyIds()) this.refresh(id);
  }

  private setConnection(connection: Connection): void {
    if (connection === this.connection) return;
    this.connection = connection;
    this.handlers.onConnection(connection);
  }
}
