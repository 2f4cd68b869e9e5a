// Deployment validation without a cluster or a Docker engine: a kustomize subset, schema
// validators and the consistency checks the specs in this folder run.
export * from './kustomize';
export * from './k8s-schemas';
export * from './k8s-checks';
export * from './compose';
export * from './compose-checks';
export * from './dockerfile-checks';
export * from './deployment';
