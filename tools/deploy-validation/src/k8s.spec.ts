import * as path from 'node:path';
import { validateK8sObject } from './k8s-schemas';
import { applyJsonPatch, renderKustomization, strategicMerge, type K8sObject } from './kustomize';
import { K8S_DIR as K8S, OVERLAYS } from './deployment';
import { readYamlDocuments, yamlFilesUnder } from './yaml-files';

describe('k8s manifests', () => {
  it('every YAML file under k8s/ parses', () => {
    const files = yamlFilesUnder(K8S);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(() => readYamlDocuments(file)).not.toThrow();
  });

  describe.each(['base', ...OVERLAYS.map((o) => `overlays/${o}`)])('%s', (dir) => {
    const objects = renderKustomization(path.join(K8S, dir));

    it('renders, and every object is valid against its schema', () => {
      expect(objects.length).toBeGreaterThan(10);
      for (const object of objects) expect(() => validateK8sObject(object)).not.toThrow();
    });

    it('has unique kind/name pairs', () => {
      const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  it('overlays put everything in their namespace and hash the generated ConfigMap', () => {
    const dev = renderKustomization(path.join(K8S, 'overlays/dev'));
    expect(new Set(dev.map((o) => o.metadata.namespace))).toEqual(new Set(['xray-dev']));
    const config = dev.find((o) => o.kind === 'ConfigMap')!;
    expect(config.metadata.name).toMatch(/^xray-config-[0-9a-f]{10}$/);
    expect(config.data.LOG_LEVEL).toBe('debug');
    const gateway = dev.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway')!;
    expect(gateway.spec.template.spec.containers[0].envFrom[0].configMapRef.name).toBe(config.metadata.name);
  });
});

describe('the validators catch broken manifests', () => {
  const deployment = (): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'x', image: 'i' }] } } },
  });

  it('rejects a wrong type and an unknown kind', () => {
    const bad = deployment();
    bad.spec.template.spec.containers[0].ports = [{ containerPort: '3000' }];
    expect(() => validateK8sObject(bad)).toThrow(/Deployment\/x: .*containerPort must be integer/);
    expect(() => validateK8sObject({ ...deployment(), kind: 'Deploymnet' })).toThrow(/has no kind Deploymnet/);
    expect(() => validateK8sObject({ ...deployment(), apiVersion: 'example.com/v1' })).toThrow(
      /no schema for API group/,
    );
  });

  it('strategic merge: maps merge, named lists merge by name, other lists are replaced, null deletes', () => {
    const target = {
      spec: {
        a: 1,
        b: 2,
        containers: [{ name: 'c', image: 'x', env: [{ name: 'A', value: '1' }] }],
        tolerations: [{ key: 'k' }],
      },
    };
    strategicMerge(target, {
      spec: {
        b: null,
        containers: [
          { name: 'c', env: [{ name: 'B', value: '2' }] },
          { name: 'd', image: 'y' },
        ],
        tolerations: [{ key: 'z' }],
      },
    });
    expect(target).toEqual({
      spec: {
        a: 1,
        containers: [
          {
            name: 'c',
            image: 'x',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'd', image: 'y' },
        ],
        tolerations: [{ key: 'z' }],
      },
    });
  });
});

describe('JSON 6902 patches', () => {
  it('add, replace and remove at JSON pointers; a missing path is an error', () => {
    const target = { spec: { rules: [{ host: 'a' }], tls: [{ hosts: ['a'] }], keep: 1, drop: 2 } };
    applyJsonPatch(target, { op: 'replace', path: '/spec/rules/0/host', value: 'b' });
    applyJsonPatch(target, { op: 'add', path: '/spec/tls/0/hosts/-', value: 'c' });
    applyJsonPatch(target, { op: 'remove', path: '/spec/drop' });
    expect(target).toEqual({ spec: { rules: [{ host: 'b' }], tls: [{ hosts: ['a', 'c'] }], keep: 1 } });
    expect(() => applyJsonPatch(target, { op: 'replace', path: '/spec/rules/3/host', value: 'x' })).toThrow(
      /no such path/,
    );
  });
});
