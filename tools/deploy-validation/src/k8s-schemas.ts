import type { K8sObject } from './kustomize';

/** The model packages that hold JSON-schema validators for each API group. */
const GROUP_MODULES: Record<string, string> = {
  '': 'kubernetes-models',
  apps: 'kubernetes-models',
  batch: 'kubernetes-models',
  policy: 'kubernetes-models',
  autoscaling: 'kubernetes-models',
  'networking.k8s.io': 'kubernetes-models',
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

/**
 * Validates one object against the JSON schema of its apiVersion and kind (kubernetes-models
 * for built-in kinds, @kubernetes-models/keda and /prometheus-operator for the CRDs).
 * Throws, naming the object, when the kind is unknown or the object is invalid.
 */
export function validateK8sObject(object: K8sObject): void {
  const id = `${object.kind}/${object.metadata?.name}`;
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const pkg = GROUP_MODULES[group];
  if (!pkg) throw new Error(`${id}: no schema for API group "${group}"`);
  const modulePath = group === '' ? `${pkg}/${version}` : `${pkg}/${group}/${version}`;
  let Model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    Model = require(modulePath)[object.kind];
  } catch (error) {
    throw new Error(`${id}: no schema for ${object.apiVersion}`, { cause: error });
  }
  if (!Model) throw new Error(`${id}: ${object.apiVersion} has no kind ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${id}: ${(error as Error).message}`, { cause: error });
  }
}
