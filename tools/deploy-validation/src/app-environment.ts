import { CONFIG_SCHEMA } from '@xray/platform';
import type { K8sObject } from './kustomize';

/** A stand-in for a value held in a Secret: the schema default, or any non-empty string. */
export function placeholderFor(name: string): string {
  return Object.values(CONFIG_SCHEMA).find((v) => v.name === name)?.default ?? 'placeholder';
}

/**
 * The environment a container gets: the generated ConfigMap (envFrom) plus its env list.
 * Secret references become `secretValue(name)` (undefined: left out).
 */
export function environmentOf(
  container: any,
  configMap: K8sObject | undefined,
  secretValue: (key: string) => string | undefined = () => undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef && configMap && source.configMapRef.name === configMap.metadata.name)
      Object.assign(env, configMap.data);
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    const resolved = value ?? (valueFrom?.secretKeyRef ? secretValue(valueFrom.secretKeyRef.key) : undefined);
    if (resolved !== undefined) env[name] = String(resolved);
  }
  return env;
}

/** Metric names a PromQL expression reads (histogram/summary suffixes folded to the metric). */
export function metricNamesIn(expr: string): string[] {
  return [
    ...new Set([...expr.matchAll(/\bxray_[a-z0-9_]+/g)].map(([name]) => name.replace(/_(count|sum|bucket)$/, ''))),
  ];
}
