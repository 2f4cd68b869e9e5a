import type { StudyDto } from '@xray/shared';
import type { ApiClient } from './api-client';
import { LiveUpdates, type Connection } from './live-updates';
import { instanceDto, studyDto } from './testing/dto';

/** Just enough of EventSource for LiveUpdates; the test drives it. */
class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static last: FakeEventSource;
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(): void {
    // the named 'instance.status' event goes through onmessage in this fake
  }
  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }
}

function setUp(answers: (id: string) => Promise<StudyDto>) {
  const fetched: string[] = [];
  const studies: StudyDto[] = [];
  const statuses: string[] = [];
  const connections: Connection[] = [];
  const api = {
    eventsUrl: () => '/v1/events?access_token=k',
    getStudy: (id: string) => {
      fetched.push(id);
      return answers(id);
    },
  } as unknown as ApiClient;
  const live = new LiveUpdates(api, {
    activeStudyIds: () => ['s1'],
    onStatus: (e) => statuses.push(`${e.instanceId}:${e.status}`),
    onStudy: (s) => studies.push(s),
    onConnection: (c) => connections.push(c),
  });
  return { live, fetched, studies, statuses, connections };
}

describe('LiveUpdates', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    (globalThis as unknown as { EventSource: unknown }).EventSource = FakeEventSource;
  });
  afterEach(() => {
    jest.useRealTimers();
    delete (globalThis as unknown as { EventSource?: unknown }).EventSource;
  });

  it('applies events at once and re-reads the study once per burst', async () => {
    const t = setUp(async (id) => studyDto(id, [instanceDto('i1', { label: 'Chest' })]));
    t.live.start();
    FakeEventSource.last.readyState = FakeEventSource.OPEN;
    FakeEventSource.last.onopen?.();
    await jest.advanceTimersByTimeAsync(0);
    expect(t.connections).toEqual(['live']);
    t.fetched.length = 0;
    for (const status of ['classifying', 'classified', 'explaining']) {
      FakeEventSource.last.onmessage?.({ data: JSON.stringify({ studyId: 's1', instanceId: 'i1', status, at: '' }) });
    }
    expect(t.statuses).toEqual(['i1:classifying', 'i1:classified', 'i1:explaining']);
    await jest.advanceTimersByTimeAsync(200);
    expect(t.fetched).toEqual(['s1']);
    // While live, the safety poll is rare: nothing more within a few seconds.
    await jest.advanceTimersByTimeAsync(5000);
    expect(t.fetched).toEqual(['s1']);
    t.live.stop();
  });

  it('polls every 2 s while the event stream is down', async () => {
    const t = setUp(async (id) => studyDto(id, []));
    t.live.start();
    FakeEventSource.last.readyState = FakeEventSource.CLOSED;
    FakeEventSource.last.onerror?.();
    await jest.advanceTimersByTimeAsync(6100);
    expect(t.fetched).toEqual(['s1', 's1', 's1']);
    expect(t.studies).toHaveLength(3);
    t.live.stop();
  });

  it('drops an answer overtaken by a newer event and asks again', async () => {
    const resolvers: ((s: StudyDto) => void)[] = [];
    const t = setUp(() => new Promise((resolve) => resolvers.push(resolve)));
    t.live.refresh('s1');
    t.live.refresh('s1'); // arrives while the first is in flight
    expect(t.fetched).toEqual(['s1']);
    resolvers[0](studyDto('s1', [instanceDto('old')]));
    await jest.advanceTimersByTimeAsync(0);
    expect(t.studies).toEqual([]);
    expect(t.fetched).toEqual(['s1', 's1']);
    resolvers[1](studyDto('s1', [instanceDto('new')]));
    await jest.advanceTimersByTimeAsync(0);
    expect(t.studies.map((s) => s.instances[0].id)).toEqual(['new']);
  });
});
