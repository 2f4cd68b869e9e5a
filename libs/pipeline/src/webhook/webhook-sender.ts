import type { WebhookEvent } from '@xray/shared';
import { signWebhook } from './signature';

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One signed POST of an event. Redirects are not followed (they could lead into private networks). */
export async function postWebhook(
  url: string,
  event: WebhookEvent,
  secret: string,
  timeoutMs: number,
): Promise<AttemptResult> {
  const body = JSON.stringify(event);
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'xray-webhooks/1',
        'X-Event-Id': event.id,
        'X-Event-Type': event.type,
        'X-Signature': signWebhook(secret, body),
      },
      body,
    });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    return { ok, statusCode: res.status, error: ok ? null : `HTTP ${res.status}`, durationMs: Date.now() - started };
  } catch (error) {
    const message =
      (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    return { ok: false, statusCode: null, error: message, durationMs: Date.now() - started };
  }
}
