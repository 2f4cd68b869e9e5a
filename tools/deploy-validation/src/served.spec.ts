import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { APP_NAMES, APPS, MetricsServer, ObservabilityModule } from '@xray/platform';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MIGRATE_COMMAND } from './deployment';
import { REPO_ROOT } from './yaml-files';

/**
 * The manifests are checked against APPS; these tests check APPS against what the apps really
 * serve: every app mounts ObservabilityModule, and that module answers on APPS' paths.
 */
describe('the paths the manifests probe and scrape are served', () => {
  // One app as the workers mount the module (metrics on the app's port), one as the gateway does (a port of its own).
  let app: INestApplication;
  let url: string;
  let separate: INestApplication;
  let separateUrl: string;
  let separateMetricsUrl: string;

  beforeAll(async () => {
    const start = async (metrics?: { port: number; host: string }) => {
      @Module({
        imports: [
          ObservabilityModule.forRootAsync({ app: 'probe-test', metrics, useFactory: () => ({ readiness: [] }) }),
        ],
      })
      class ProbeTestModule {}
      const started = await NestFactory.create(ProbeTestModule, { logger: false, forceCloseConnections: true });
      await started.listen(0, '127.0.0.1');
      return started;
    };
    app = await start();
    url = await app.getUrl();
    separate = await start({ port: 0, host: '127.0.0.1' });
    separateUrl = await separate.getUrl();
    separateMetricsUrl = `http://127.0.0.1:${separate.get(MetricsServer).port}`;
  }, 30_000);
  afterAll(() => Promise.all([app.close(), separate.close()]));

  it.each(APP_NAMES)('%s: ObservabilityModule answers on its probe and metrics paths and ports', async (name) => {
    const { probes, metricsPath, metricsPortName } = APPS[name];
    const [appUrl, metricsUrl] = metricsPortName === 'http' ? [url, url] : [separateUrl, separateMetricsUrl];
    for (const probe of Object.values(probes)) expect((await fetch(appUrl + probe)).status).toBe(200);
    const metrics = await fetch(metricsUrl + metricsPath);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('xray_queue_jobs');
    if (metricsPortName === 'metrics') {
      // The app's own port (the one the Ingress routes) does not serve metrics, and the metrics port serves nothing else.
      expect((await fetch(appUrl + metricsPath)).status).toBe(404);
      expect((await fetch(metricsUrl + probes.readiness)).status).toBe(404);
    }
  });

  it.each(APP_NAMES)('%s: its root module mounts ObservabilityModule under its own name', (name) => {
    // Either directly, or through libs/pipeline's workerAppModule (which mounts it, checked below).
    const mounts = new RegExp(
      `ObservabilityModule\\.forRootAsync\\(\\{\\s*app: '${name}'|workerAppModule\\(\\w+, '${name}'`,
    );
    const dir = path.join(REPO_ROOT, 'apps', name, 'src');
    const modules = fs.readdirSync(dir).filter((file) => file.endsWith('.module.ts'));
    expect(modules.some((file) => mounts.test(fs.readFileSync(path.join(dir, file), 'utf8')))).toBe(true);
    const workerApp = fs.readFileSync(path.join(REPO_ROOT, 'libs/pipeline/src/nest/worker-app.ts'), 'utf8');
    expect(workerApp).toMatch(/ObservabilityModule\.forRootAsync\(\{\s*app,/);
  });

  it(`the one-shot migration command (${MIGRATE_COMMAND.slice(1).join(' ')}) is a CLI command`, () => {
    const commands = path.join(REPO_ROOT, 'apps/cli/src/commands');
    const sources = fs.readdirSync(commands).map((file) => fs.readFileSync(path.join(commands, file), 'utf8'));
    expect(sources.some((source) => source.includes(`.command('${MIGRATE_COMMAND.at(-1)}')`))).toBe(true);
  });
});
