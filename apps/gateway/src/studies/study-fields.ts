import type { Priority } from '@xray/shared';
import { invalid } from '../errors/api-error';
import { callbackUrlProblem } from '@xray/pipeline';

export interface StudyFields {
  callbackUrl: string | null;
  accessionNumber: string | null;
  priority: Priority;
}

/** Validates the form fields that come with a study upload. */
export function parseStudyFields(fields: Record<string, string>): StudyFields {
  const callbackUrl = fields.callbackUrl?.trim() || null;
  if (callbackUrl) {
    const problem = callbackUrlProblem(callbackUrl);
    if (problem) throw invalid(problem);
  }
  const accessionNumber = fields.accessionNumber?.trim() || null;
  if (accessionNumber && accessionNumber.length > 64) throw invalid('accessionNumber is at most 64 characters');
  const priority = (fields.priority?.trim() || 'routine') as Priority;
  if (priority !== 'routine' && priority !== 'stat') throw invalid('priority must be `routine` or `stat`');
  return { callbackUrl, accessionNumber, priority };
}

export function parseIdempotencyKey(raw: string | string[] | undefined): string | null {
  if (raw === undefined) return null;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key || key.length > 200) throw invalid('Idempotency-Key must be 1 to 200 characters');
  return key;
}
