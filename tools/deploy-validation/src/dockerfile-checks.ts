import * as fs from 'node:fs';
import * as path from 'node:path';
import { APPS, CONFIG_SCHEMA } from '@xray/platform';
import { dockerStages, type DockerStage } from './deployment';
import { REPO_ROOT } from './yaml-files';

/** The stages that become images, and what each must hold. */
const FINAL_STAGES = ['runtime', 'gpu-worker'];

/** The default MODEL_DIR (relative: the apps resolve it against their working directory). */
const DEFAULT_MODEL_DIR = CONFIG_SCHEMA.modelDir.default!;

/** A stage's final WORKDIR and what its COPY lines write, resolved against the WORKDIR at that point. */
function stageLayout(stage: DockerStage): { workdir: string; copies: Array<{ sources: string[]; dest: string }> } {
  let workdir = '/';
  const copies: Array<{ sources: string[]; dest: string }> = [];
  for (const line of stage.lines) {
    const [instruction, ...args] = line.split(/\s+/);
    if (/^WORKDIR$/i.test(instruction)) workdir = path.posix.resolve(workdir, args[0]);
    if (!/^COPY$/i.test(instruction)) continue;
    const paths = args.filter((arg) => !arg.startsWith('--'));
    copies.push({ sources: paths.slice(0, -1), dest: path.posix.resolve(workdir, paths.at(-1)!) });
  }
  return { workdir, copies };
}

/**
 * deploy/docker/Dockerfile: Node 20 pinned to an exact version, non-root final images that
 * start a real app entry point and carry the model package where the default MODEL_DIR finds
 * it, and a GPU image on a CUDA base with tfjs-node-gpu (same version as @tensorflow/tfjs)
 * installed at build time. `.dockerignore` must not leave the model out of the build context.
 */
export function dockerfileProblems(
  parsed: { args: Record<string, string>; stages: DockerStage[] } = dockerStages(),
  dockerignore = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8'),
): string[] {
  const problems: string[] = [];
  const check = (ok: unknown, message: string) => {
    if (!ok) problems.push(message);
  };
  const { args, stages } = parsed;
  const stage = (name: string) => stages.find((s) => s.name === name);
  const text = (s: DockerStage | undefined) => (s?.lines ?? []).join('\n');

  check(
    /^20\.\d+\.\d+$/.test(args.NODE_VERSION ?? ''),
    `NODE_VERSION must pin an exact Node 20 release (got ${args.NODE_VERSION})`,
  );
  check(
    stage('runtime')?.from === `node:${args.NODE_VERSION}-bookworm-slim`,
    'runtime must be the slim Node image of NODE_VERSION',
  );
  const tfjs = require('@tensorflow/tfjs/package.json').version;
  check(
    args.TFJS_VERSION === tfjs,
    `TFJS_VERSION ${args.TFJS_VERSION} must match the installed @tensorflow/tfjs ${tfjs}`,
  );
  check(
    stages.some((s) => text(s).includes('@tensorflow/tfjs-node-gpu@${TFJS_VERSION}')),
    'no stage installs @tensorflow/tfjs-node-gpu',
  );

  const modelRoot = DEFAULT_MODEL_DIR.split('/')[0];
  const ignored = dockerignore
    .split('\n')
    .map((l) => l.trim().replace(/^\/+|\/+$/g, ''))
    .filter((l) => l && !l.startsWith('#'));
  check(
    !ignored.some((l) => l === modelRoot || DEFAULT_MODEL_DIR.startsWith(`${l}/`) || l.startsWith(`${modelRoot}/`)),
    `.dockerignore must not exclude ${modelRoot}/ (the images ship ${DEFAULT_MODEL_DIR})`,
  );
  const entries = Object.values(APPS).map((a) => a.entry);
  for (const name of FINAL_STAGES) {
    const s = stage(name);
    if (!s) {
      problems.push(`no stage ${name}`);
      continue;
    }
    const users = s.lines.filter((l) => /^USER\s/i.test(l));
    check(users.length > 0 && !/^USER\s+(root|0)\b/i.test(users.at(-1)!), `${name}: must end as a non-root USER`);
    const cmd = s.lines.find((l) => /^CMD\s/i.test(l));
    check(cmd && entries.some((entry) => cmd.includes(entry)), `${name}: CMD must start an app entry point`);
    const { workdir, copies } = stageLayout(s);
    const modelAt = path.posix.join(workdir, modelRoot);
    check(
      copies.some((c) => c.dest === modelAt && c.sources.some((src) => path.posix.basename(src) === modelRoot)),
      `${name}: must copy the model package folder ${modelRoot}/ to ${modelAt} (MODEL_DIR defaults to ${DEFAULT_MODEL_DIR}, relative to WORKDIR)`,
    );
    if (name !== 'runtime') check(s.from.startsWith('nvidia/cuda:'), `${name}: must build on an nvidia/cuda base`);
    if (name !== 'runtime')
      check(
        s.lines.some((l) => /^COPY --from=runtime \/usr\/local\/bin\/node /.test(l)),
        `${name}: must take node from the pinned Node image`,
      );
  }
  return problems;
}

/** The model package the default MODEL_DIR names, in the repository: card, topology and every weight shard. */
export function defaultModelPackageProblems(root = REPO_ROOT): string[] {
  const dir = path.join(root, DEFAULT_MODEL_DIR);
  const missing = (file: string) => !fs.existsSync(path.join(dir, file));
  if (missing('model-card.json') || missing('model.json'))
    return [`${DEFAULT_MODEL_DIR}: model-card.json and model.json must exist (the default MODEL_DIR of the images)`];
  const manifest: Array<{ paths: string[] }> =
    JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest ?? [];
  return manifest.flatMap((group) =>
    group.paths
      .filter(missing)
      .map((shard) => `${DEFAULT_MODEL_DIR}: weight shard ${shard} named in model.json is missing`),
  );
}
