import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { readYaml, readYamlDocuments } from './yaml-files';

/**
 * The subset of kustomize that k8s/ uses, so overlays render in CI without the binary:
 * resources (files and nested kustomizations), configMapGenerator (create and merge, with the
 * content-hash name suffix and references rewritten), patches (files: strategic merge, where
 * maps merge, lists of named items merge by name, other lists are replaced and null deletes;
 * inline with a target: JSON 6902 add / replace / remove), labels,
 * images and namespace. Anything else in a kustomization.yaml is an error, so a manifest
 * that relies on an unsupported feature cannot pass unnoticed.
 */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: any;
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'configMapGenerator',
  'patches',
  'labels',
  'images',
  'namespace',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
]);
/** Where generated ConfigMaps are referenced by name (kustomize's name-reference subset we use). */
const GENERATED = Symbol('generatedName');

export function renderKustomization(dir: string): K8sObject[] {
  const objects = build(dir);
  return applyConfigMapHashes(objects);
}

function build(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const k = readYaml(file);
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${file}: unsupported kustomize fields: ${unsupported.join(', ')}`);

  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    const nested = fs.existsSync(path.join(target, 'kustomization.yaml'));
    objects.push(...(nested ? build(target) : (readYamlDocuments(target) as K8sObject[])));
  }
  for (const generator of k.configMapGenerator ?? []) objects = generateConfigMap(objects, generator, file);
  for (const patch of k.patches ?? []) {
    if (patch.patch) {
      const target = objects.find((o) => o.kind === patch.target?.kind && o.metadata.name === patch.target?.name);
      if (!target)
        throw new Error(
          `${file}: inline patch targets ${patch.target?.kind}/${patch.target?.name}, which is not in the resources`,
        );
      for (const op of parse(patch.patch)) applyJsonPatch(target, op, file);
      continue;
    }
    // Like kustomize's `patches:` field, one patch per file.
    const docs = readYamlDocuments(path.resolve(dir, patch.path)) as K8sObject[];
    if (docs.length !== 1)
      throw new Error(`${file}: patch ${patch.path} must hold exactly one patch (has ${docs.length})`);
    const [doc] = docs;
    const target = objects.find((o) => o.kind === doc.kind && o.metadata.name === doc.metadata.name);
    if (!target)
      throw new Error(
        `${file}: patch ${patch.path} targets ${doc.kind}/${doc.metadata.name}, which is not in the resources`,
      );
    strategicMerge(target, doc);
  }
  for (const { pairs } of k.labels ?? []) {
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...pairs };
  }
  for (const image of k.images ?? []) {
    for (const container of containersOf(objects)) container.image = retag(container.image, image);
  }
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

function generateConfigMap(objects: K8sObject[], generator: any, file: string): K8sObject[] {
  const data = Object.fromEntries(
    (generator.literals ?? []).map((literal: string) => {
      const eq = literal.indexOf('=');
      if (eq < 1) throw new Error(`${file}: configMapGenerator literal without '=': ${literal}`);
      return [literal.slice(0, eq), literal.slice(eq + 1)];
    }),
  );
  const existing = objects.find((o) => o.kind === 'ConfigMap' && (o as any)[GENERATED] === generator.name);
  const behavior = generator.behavior ?? 'create';
  if (behavior === 'merge' || behavior === 'replace') {
    if (!existing)
      throw new Error(`${file}: configMapGenerator ${generator.name} (${behavior}) has no ConfigMap to ${behavior}`);
    existing.data = behavior === 'merge' ? { ...existing.data, ...data } : data;
    return objects;
  }
  if (existing) throw new Error(`${file}: configMapGenerator ${generator.name} already exists (use behavior: merge)`);
  const configMap: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data };
  Object.defineProperty(configMap, GENERATED, { value: generator.name, enumerable: false });
  return [...objects, configMap];
}

/** Generated ConfigMaps get a content hash in their name (pods roll when config changes); references follow. */
function applyConfigMapHashes(objects: K8sObject[]): K8sObject[] {
  const renamed = new Map<string, string>();
  for (const o of objects) {
    const generated = (o as any)[GENERATED] as string | undefined;
    if (!generated) continue;
    const hash = createHash('sha256').update(JSON.stringify(o.data)).digest('hex').slice(0, 10);
    o.metadata.name = `${generated}-${hash}`;
    renamed.set(generated, o.metadata.name);
  }
  const visit = (node: any): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const key of ['configMapRef', 'configMapKeyRef', 'configMap']) {
      if (node[key]?.name && renamed.has(node[key].name)) node[key].name = renamed.get(node[key].name);
    }
    Object.values(node).forEach(visit);
  };
  objects.filter((o) => o.kind !== 'ConfigMap').forEach(visit);
  return objects;
}

/** Strategic-merge-patch subset: see the module comment. Mutates and returns `target`. */
export function strategicMerge(target: any, patch: any): any {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
    } else if (Array.isArray(value)) {
      target[key] =
        Array.isArray(target[key]) && isNamedList(value) && isNamedList(target[key])
          ? mergeByName(target[key], value)
          : value;
    } else if (
      typeof value === 'object' &&
      target[key] &&
      typeof target[key] === 'object' &&
      !Array.isArray(target[key])
    ) {
      strategicMerge(target[key], value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

/** One JSON 6902 operation (add, replace, remove) at a JSON pointer. */
export function applyJsonPatch(target: any, op: { op: string; path: string; value?: unknown }, file = 'patch'): void {
  const keys = op.path
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop()!;
  const parent = keys.reduce((node, key) => node?.[key], target);
  if (parent === undefined || parent === null) throw new Error(`${file}: ${op.op} ${op.path}: no such path`);
  const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
  if (op.op !== 'add' && !(index in parent)) throw new Error(`${file}: ${op.op} ${op.path}: no such path`);
  if (op.op === 'remove' && Array.isArray(parent)) parent.splice(index as number, 1);
  else if (op.op === 'remove') delete parent[index];
  else if (op.op === 'add' && Array.isArray(parent)) parent.splice(index as number, 0, op.value);
  else if (op.op === 'add' || op.op === 'replace') parent[index] = op.value;
  else throw new Error(`${file}: unsupported JSON patch op ${op.op}`);
}

function isNamedList(list: unknown[]): boolean {
  return list.every((item) => item && typeof item === 'object' && typeof (item as any).name === 'string');
}

function mergeByName(target: any[], patch: any[]): any[] {
  const result = [...target];
  for (const item of patch) {
    const index = result.findIndex((existing) => existing.name === item.name);
    if (index < 0) result.push(item);
    else strategicMerge(result[index], item);
  }
  return result;
}

/** Every container (and init container) of Deployments, Jobs, StatefulSets, DaemonSets and Pods. */
export function containersOf(objects: K8sObject[]): any[] {
  return objects.flatMap((o) => {
    const pod = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
  });
}

function retag(image: string, rule: { name: string; newName?: string; newTag?: string; digest?: string }): string {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > withoutDigest.lastIndexOf('/');
  const name = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  if (name !== rule.name) return image;
  const tag = rule.newTag ?? (hasTag ? withoutDigest.slice(colon + 1) : undefined);
  const newName = rule.newName ?? name;
  if (rule.digest) return `${newName}@${rule.digest}`;
  return tag ? `${newName}:${tag}` : newName;
}
