/**
 * STOW-RS client (PS3.18 10.5): POSTs our objects to a DICOMweb "studies" resource in one
 * multipart/related request and maps the Store Instances Response to a result per object.
 */
import { classifyStatus, type DeliveryResult, type DeliveryStatus, type OutgoingObject } from './delivery-result';
import { multipartRelated } from './multipart';

export interface StowDestination {
  /** DICOMweb root (".../dicom-web") or the studies resource itself (".../studies"). */
  url: string;
  /** Extra request headers, e.g. Authorization. */
  headers?: Record<string, string>;
}

export interface StowOptions {
  timeoutMs?: number;
}

type JsonDataset = Record<string, { vr?: string; Value?: unknown[] }>;

const TAG = {
  failedSopSequence: '00081198',
  referencedSopSequence: '00081199',
  referencedSopInstanceUid: '00081155',
  failureReason: '00081197',
  warningReason: '00081196',
} as const;

/** The STOW endpoint for a configured URL. */
export function stowEndpoint(url: string): string {
  const parsed = new URL(url);
  if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error(`STOW-RS URL must be http(s): ${url}`);
  const path = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = path.endsWith('/studies') ? path : `${path}/studies`;
  return parsed.toString();
}

function sequenceItems(dataset: JsonDataset, tag: string): JsonDataset[] {
  return (dataset[tag]?.Value ?? []) as JsonDataset[];
}
function firstValue(dataset: JsonDataset, tag: string): unknown {
  return dataset[tag]?.Value?.[0];
}

/** 5xx, 408 and 429 are the server's trouble or load: worth retrying. Other 4xx are not. */
function httpStatusOutcome(status: number): DeliveryStatus {
  if (status >= 500 || status === 408 || status === 429) return 'retryable';
  return 'failed';
}

/** Maps a Store Instances Response (JSON) plus the HTTP status to a result per object. */
export function interpretStowResponse(objects: OutgoingObject[], httpStatus: number, body: unknown): DeliveryResult[] {
  const dataset = (Array.isArray(body) ? body[0] : body) as JsonDataset | undefined;
  const failed = new Map<string, number>();
  const stored = new Map<string, number | undefined>();
  if (dataset && typeof dataset === 'object') {
    for (const item of sequenceItems(dataset, TAG.failedSopSequence)) {
      const uid = firstValue(item, TAG.referencedSopInstanceUid);
      if (typeof uid === 'string') failed.set(uid, Number(firstValue(item, TAG.failureReason) ?? 0x0110));
    }
    for (const item of sequenceItems(dataset, TAG.referencedSopSequence)) {
      const uid = firstValue(item, TAG.referencedSopInstanceUid);
      const warning = firstValue(item, TAG.warningReason);
      if (typeof uid === 'string') stored.set(uid, warning === undefined ? undefined : Number(warning));
    }
  }
  return objects.map((object): DeliveryResult => {
    const uid = object.sopInstanceUid;
    if (failed.has(uid)) {
      const code = failed.get(uid)!;
      const { status, reason } = classifyStatus(code);
      return { sopInstanceUid: uid, status, code, reason: `HTTP ${httpStatus}: ${reason ?? 'failed'}` };
    }
    if (stored.has(uid) && httpStatus >= 200 && httpStatus < 300) {
      const code = stored.get(uid);
      return code === undefined
        ? { sopInstanceUid: uid, status: 'stored' }
        : { sopInstanceUid: uid, status: 'stored', code, reason: `stored with warning 0x${code.toString(16)}` };
    }
    // No per-instance answer: an all-stored 200 without a body, or an error for the whole request.
    if (httpStatus === 200 && stored.size === 0 && failed.size === 0) return { sopInstanceUid: uid, status: 'stored' };
    const status = httpStatus >= 200 && httpStatus < 300 ? 'retryable' : httpStatusOutcome(httpStatus);
    return { sopInstanceUid: uid, status, reason: `HTTP ${httpStatus}: no result for this instance in the response` };
  });
}

export async function stowRs(
  destination: StowDestination,
  objects: OutgoingObject[],
  options: StowOptions = {},
): Promise<DeliveryResult[]> {
  if (objects.length === 0) return [];
  const endpoint = stowEndpoint(destination.url);
  const { contentType, body } = multipartRelated(objects.map((o) => o.bytes));
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { ...destination.headers, 'Content-Type': contentType, Accept: 'application/dicom+json' },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
  } catch (error) {
    const reason = `request to ${endpoint} failed: ${(error as Error).message}`;
    return objects.map((o) => ({ sopInstanceUid: o.sopInstanceUid, status: 'retryable', reason }));
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return interpretStowResponse(objects, response.status, json);
}
