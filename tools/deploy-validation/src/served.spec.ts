import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { APP_NAMES, APPS, ObservabilityModule } from '@xray/platform';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MIGRATE_COMMAND } from './deployment';
import { REPO_ROOT } from './yaml-files';

/**
 * The manifests are checked against APPS; these tests check APPS against what the apps really
 * serve: every app mounts ObservabilityModule, and that module answers on APPS' paths.
 */
describe('the paths the manifests probe and scrape are served', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [ObservabilityModule.forRootAsync({ app: 'probe-test', useFactory: () => ({ readiness: [] }) })],
    })
    class ProbeTestModule {}
    app = await NestFactory.create(ProbeTestModule, { logger: false, forceCloseConnections: true });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  }, 30_000);
  afterAll(() => app.close());

  it.each(APP_NAMES)('%s: ObservabilityModule answers on its probe and metrics paths', async (name) => {
    const { probes, metricsPath } = APPS[name];
    for (const probe of Object.values(probes)) expect((await fetch(url + probe)).status).toBe(200);
    const metrics = await fetch(url + metricsPath);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('xray_queue_jobs');
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
