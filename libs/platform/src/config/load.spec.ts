import { XrayError } from '@xray/shared';
import { APPS, CONFIG_SCHEMA, configVarsFor, loadConfig, readConfigVar } from './index';

describe('configuration', () => {
  it('defaults to the local servers and the filesystem store', () => {
    const config = loadConfig('gateway', {});
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/xray');
    expect(config.storage).toEqual({ kind: 'fs', dir: './var/objects' });
    expect(config.port).toBe(APPS.gateway.defaultPort);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(loadConfig('explain-worker', {}).port).toBe(3002);
  });

  it('marks a worker not ready 30 s after its last progress beat (the probe beats every 5-10 s)', () => {
    const config = loadConfig('inference-worker', {});
    expect(config.heartbeatMaxAgeMs).toBe(30_000);
    expect(loadConfig('explain-worker', { HEARTBEAT_MAX_AGE_MS: '45000' }).heartbeatMaxAgeMs).toBe(45_000);
    // Below the probe period plus BullMQ's blocking wait, an idle healthy worker would flap.
    expect(() => loadConfig('explain-worker', { HEARTBEAT_MAX_AGE_MS: '5000' })).toThrow(
      /HEARTBEAT_MAX_AGE_MS: must be >= 10000/,
    );
  });

  it("takes over a dead worker's jobs within 30 s: a short lock (renewed while a job runs) and frequent stalled checks", () => {
    const { jobs } = loadConfig('inference-worker', {});
    expect(jobs.lockDurationMs).toBeLessThanOrEqual(30_000);
    expect(jobs.lockDurationMs + jobs.stalledIntervalMs).toBeLessThanOrEqual(30_000);
  });

  it('chooses the inference engine with ENGINE (auto by default) and refuses unknown ones', () => {
    expect(loadConfig('inference-worker', {}).engine).toBe('auto');
    expect(loadConfig('explain-worker', { ENGINE: 'ONNX' }).engine).toBe('onnx');
    expect(() => loadConfig('inference-worker', { ENGINE: 'gpu' })).toThrow(
      /ENGINE: expected one of onnx, tfjs, auto, got "gpu"/,
    );
  });

  it('reads one variable for the CLI as loadConfig does (ENGINE, MODEL_DIR)', () => {
    expect(readConfigVar('engine', {})).toBe('auto');
    expect(readConfigVar('engine', { ENGINE: ' TFJS ' })).toBe('tfjs');
    expect(readConfigVar('modelDir', { MODEL_DIR: '/models/x' })).toBe('/models/x');
    expect(() => readConfigVar('engine', { ENGINE: 'gpu' })).toThrow(
      /Invalid configuration: ENGINE: expected one of onnx, tfjs, auto, got "gpu"/,
    );
  });

  it('caches API keys for API_KEY_CACHE_MS (0 turns the cache off)', () => {
    expect(loadConfig('gateway', {}).apiKeyCacheMs).toBe(30_000);
    expect(loadConfig('gateway', { API_KEY_CACHE_MS: '0' }).apiKeyCacheMs).toBe(0);
  });

  it('selects S3 when S3_ENDPOINT is set', () => {
    const config = loadConfig('gateway', {
      S3_ENDPOINT: 'https://minio.internal:9000',
      S3_ACCESS_KEY: 'a',
      S3_SECRET_KEY: 'b',
    });
    expect(config.storage).toMatchObject({
      kind: 's3',
      endPoint: 'minio.internal',
      port: 9000,
      useSSL: true,
      bucket: 'xray',
    });
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig('gateway', {
        PORT: 'eighty',
        REDIS_URL: 'http://x',
        S3_ENDPOINT: 'http://minio:9000',
        WEBHOOK_ALLOW_PRIVATE: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(XrayError);
    expect((error as XrayError).code).toBe('CONFIG_INVALID');
    for (const name of ['PORT', 'REDIS_URL', 'S3_ACCESS_KEY', 'WEBHOOK_ALLOW_PRIVATE'])
      expect((error as Error).message).toContain(name);
  });

  it('exports the schema as data for deployment checks', () => {
    expect(CONFIG_SCHEMA.databaseUrl).toMatchObject({
      name: 'DATABASE_URL',
      default: 'postgres://postgres@127.0.0.1:5432/xray',
    });
    expect(configVarsFor('inference-worker').map((v) => v.name)).toContain('MODEL_DIR');
    expect(configVarsFor('gateway').map((v) => v.name)).not.toContain('MODEL_DIR');
  });
});
