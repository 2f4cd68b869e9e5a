import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderKustomization, type K8sObject } from './kustomize';
import { REPO_ROOT } from './yaml-files';

export const K8S_DIR = path.join(REPO_ROOT, 'k8s');
export const OVERLAYS = ['dev', 'prod-gpu'] as const;
export const DOCKERFILE = path.join(REPO_ROOT, 'deploy/docker/Dockerfile');
/** The images the Dockerfile builds: `runtime` (CPU) and the GPU worker targets. */
export const IMAGE_NAMES = ['xray/app', 'xray/app-gpu'];
/** The one-shot migration command of compose and the k8s Job. */
export const MIGRATE_COMMAND = ['node', 'bin/xray.js', 'migrate'];

export function renderOverlay(overlay: string): K8sObject[] {
  return renderKustomization(path.join(K8S_DIR, 'overlays', overlay));
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

/** Compose-style variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, $$. */
export function interpolate<T>(value: T, env: Record<string, string | undefined> = {}): T {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}/g, (match, name, op, arg) => {
      if (match === '$$') return '$';
      const set = env[name];
      if (op === ':-') return set ? set : arg;
      if (op === '-') return set !== undefined ? set : arg;
      if (op === ':?' && !set) throw new Error(`${name}: ${arg}`);
      return set ?? '';
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)])) as T;
  }
  return value;
}

export interface DockerStage {
  from: string;
  name?: string;
  lines: string[];
}

/** The stages of a Dockerfile (continuation lines joined, comments dropped), with ARG defaults resolved in FROM. */
export function dockerStages(file = DOCKERFILE): { args: Record<string, string>; stages: DockerStage[] } {
  const lines = fs
    .readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      stages.push({ from: from[1].replace(/\$\{(\w+)\}/g, (_, n) => args[n] ?? ''), name: from[2], lines: [] });
      continue;
    }
    const arg = /^ARG\s+(\w+)=(\S+)/i.exec(line);
    if (arg && stages.length === 0) args[arg[1]] = arg[2];
    stages.at(-1)?.lines.push(line);
  }
  return { args, stages };
}
