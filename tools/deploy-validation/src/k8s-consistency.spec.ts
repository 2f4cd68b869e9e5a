import { APPS } from '@xray/platform';
import { find, OVERLAYS, renderOverlay } from './deployment';
import { k8sProblems } from './k8s-checks';

const OPTIONS = { dev: {}, 'prod-gpu': { gpu: true, pinnedTags: true } };

describe('k8s overlays agree with the apps (libs/platform is the one source of truth)', () => {
  it.each(OVERLAYS)('%s', (overlay) => {
    expect(k8sProblems(renderOverlay(overlay), OPTIONS[overlay])).toEqual([]);
  });
});

describe('drift in a manifest is reported', () => {
  const drifted = (overlay: 'dev' | 'prod-gpu', mutate: (objects: ReturnType<typeof renderOverlay>) => void) => {
    const objects = renderOverlay(overlay);
    mutate(objects);
    return k8sProblems(objects, OPTIONS[overlay]);
  };
  const container = (objects: ReturnType<typeof renderOverlay>, app: string) =>
    find(objects, 'Deployment', app)!.spec.template.spec.containers[0];

  it('a probe path the app does not serve', () => {
    expect(drifted('dev', (o) => (container(o, 'gateway').readinessProbe.httpGet.path = '/healthz'))).toEqual([
      expect.stringContaining(`gateway: readinessProbe must GET ${APPS.gateway.probes.readiness}`),
    ]);
  });

  it('an Ingress that publishes the metrics and health endpoints, or serves another host than PUBLIC_URL', () => {
    const problems = drifted('dev', (o) => {
      const rule = o.find((x) => x.kind === 'Ingress')!.spec.rules[0];
      rule.host = 'xray.example.org';
      rule.http.paths[4].pathType = 'Prefix';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "Ingress host xray.example.org is not PUBLIC_URL's host xray.dev.example.org",
        `Ingress / publishes ${APPS.gateway.metricsPath}, which must stay inside the cluster`,
        `Ingress / publishes ${APPS.gateway.probes.readiness}, which must stay inside the cluster`,
      ]),
    );
  });

  it('a port the app does not listen on', () => {
    expect(drifted('dev', (o) => (container(o, 'explain-worker').ports[0].containerPort = 8080))).toEqual([
      expect.stringContaining('explain-worker: no port "http" on 3002'),
    ]);
  });

  it("the gateway's metrics port missing, exposed by its Service, or scraped on the API port", () => {
    expect(drifted('dev', (o) => container(o, 'gateway').ports.splice(1, 1))).toEqual([
      expect.stringContaining('gateway: no port "metrics" on 9464 (METRICS_PORT)'),
    ]);
    const problems = drifted('dev', (o) => {
      find(o, 'Service', 'gateway')!.spec.ports.push({ name: 'metrics', port: 9464, targetPort: 'metrics' });
      find(o, 'Deployment', 'gateway')!.spec.template.metadata.labels['xray.io/metrics'] = 'true';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'gateway: Service gateway exposes the metrics port',
        expect.stringContaining('gateway: a PodMonitor scrapes a port other than metrics'),
      ]),
    );
  });

  it('an env var no app reads, a secret in the ConfigMap, a value the app rejects', () => {
    const problems = drifted('dev', (o) => {
      const configMap = o.find((x) => x.kind === 'ConfigMap')!;
      configMap.data.REDIS_HOST = 'redis';
      configMap.data.DATABASE_URL = 'postgres://u:p@db/xray';
      configMap.data.INFERENCE_BATCH_SIZE = 'eight';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'ConfigMap sets REDIS_HOST, which no app reads',
        'ConfigMap holds the secret DATABASE_URL: use a secretKeyRef',
        expect.stringMatching(/^inference-worker: the app rejects this configuration: .*INFERENCE_BATCH_SIZE/),
      ]),
    );
  });

  it('a grace period shorter than the drain, and a KEDA trigger on the wrong queue', () => {
    const problems = drifted('prod-gpu', (o) => {
      find(o, 'Deployment', 'inference-worker')!.spec.template.spec.terminationGracePeriodSeconds = 30;
      const trigger = find(o, 'ScaledObject', 'explain-worker')!.spec.triggers[0];
      trigger.metadata.query = trigger.metadata.query
        .replace('queue="explain"', 'queue="inference"')
        .replace('prioritized|', '');
    });
    expect(problems).toEqual([
      expect.stringContaining('inference-worker: terminationGracePeriodSeconds 30 s'),
      'explain-worker: KEDA query does not read the explain queue',
      'explain-worker: KEDA query ignores prioritized jobs',
    ]);
  });

  it('a GPU worker without a GPU, an unpinned image, and an alert on a metric nobody exports', () => {
    const problems = drifted('prod-gpu', (o) => {
      delete container(o, 'inference-worker').resources.limits['nvidia.com/gpu'];
      container(o, 'gateway').image = 'registry.example.org/xray/app:latest';
      o.find((x) => x.kind === 'PrometheusRule')!.spec.groups[0].rules[0].expr = 'xray_queue_depth > 5';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'inference-worker: no nvidia.com/gpu limit',
        'image registry.example.org/xray/app:latest must have a pinned tag',
        'alert XrayQueueBacklogGrowing reads xray_queue_depth, which no app exports',
      ]),
    );
  });
});
