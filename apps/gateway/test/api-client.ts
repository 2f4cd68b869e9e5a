import type { StudyDto } from '@xray/shared';

/** A thin API v1 client for the end-to-end tests (what a hospital integration would do). */
export class ApiClient {
  constructor(
    readonly url: string,
    readonly apiKey: string,
  ) {}

  get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers: { Authorization: `Bearer ${this.apiKey}`, ...headers } });
  }

  async json<T = any>(path: string): Promise<T> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  submit(
    files: Array<{ name: string; bytes: Uint8Array }>,
    fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const form = new FormData();
    for (const f of files) form.append('files', new Blob([new Uint8Array(f.bytes)]), f.name);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return fetch(`${this.url}/v1/studies`, {
      method: 'POST',
      body: form,
      headers: { Authorization: `Bearer ${this.apiKey}`, ...headers },
    });
  }

  /** Polls until the study is done or failed. */
  async waitForStudy(id: string, timeoutMs = 60_000): Promise<StudyDto> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const study = await this.json<StudyDto>(`/v1/studies/${id}`);
      if (study.status === 'done' || study.status === 'failed') return study;
      if (Date.now() > deadline) throw new Error(`study ${id} still ${study.status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
