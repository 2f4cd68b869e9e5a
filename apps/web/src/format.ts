/** Words and numbers as the viewer shows them. Pure, no DOM. */
import type { ConfidenceBand, InstanceDto, InstanceStatus } from '@xray/shared';

export function percent(probability: number): string {
  return `${(probability * 100).toFixed(1)} %`;
}

export const BAND_NAMES: Record<ConfidenceBand, string> = {
  green: 'High confidence',
  orange: 'Medium confidence',
  red: 'Low confidence',
};

const STATUS_NAMES: Record<InstanceStatus, string> = {
  queued: 'Queued',
  classifying: 'Classifying',
  classified: 'Classified',
  explaining: 'Explaining',
  done: 'Done',
  failed: 'Failed',
};

/** The status line for one image, with the reason when it failed. */
export function statusText(instance: Pick<InstanceDto, 'status' | 'error'>): string {
  if (instance.status === 'failed')
    return `Failed: ${instance.error?.message ?? 'no reason given'}${instance.error?.code ? ` (${instance.error.code})` : ''}`;
  return STATUS_NAMES[instance.status] ?? instance.status;
}

export function isFinished(status: string): boolean {
  return status === 'done' || status === 'failed';
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function dateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
