import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { XrayError } from '@xray/shared';
import {
  calibratedSoftmax,
  joinBatch,
  meanOverViews,
  toClassification,
  viewsPerImage,
  withTestTimeViews,
} from '../classification';
import type { Classification, EngineInfo, GradCamMap, InferenceEngine } from '../engine';
import type { ModelCard } from '../model-card';
import { type OodModel, oodResult, readOodModel } from '../ood/ood-model';
import { animationLayersOf } from '../gradcam/card-defaults';
import { assertClassIndex, toLayerMaps, type LayerMaps } from '../gradcam/layer-maps';
import { readLayerNames, readModelCard, type ModelPackage } from '../package/model-package';
import { packageReader, type ModelPackageSource, type PackageReader } from '../package/package-source';
import type { EngineLogger } from '../tfjs/tfjs-engine';
import { readOnnxMetadata } from './onnx-metadata';
import { gradCamFileFor, FEATURES_OUTPUT, layerMapOutput, WEIGHTS_METADATA } from './package-files';

export type OnnxProvider = 'cuda' | 'cpu';

export interface OnnxEngineOptions {
  /** Intra-op threads (default: the number of cores). */
  threads?: number;
  /** Execution providers in order of preference (default: CUDA when its provider library is installed, then CPU). */
  providers?: OnnxProvider[];
  /** Largest batch handed to ONNX Runtime at once; bigger batches are split (default 16). */
  maxBatch?: number;
  logger?: EngineLogger;
  /** Run one classification at load so that the first request is not slow (default true). */
  warmUp?: boolean;
  /** The package's card when the caller has read it already (it is parsed once per engine open). */
  card?: ModelCard;
}

/** The CUDA provider ships as a separate library (present in the GPU image, absent here). */
function cudaInstalled(): boolean {
  const binding = path.join(
    path.dirname(require.resolve('onnxruntime-node')),
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  return existsSync(
    path.join(
      binding,
      process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so',
    ),
  );
}

/** Serves a model package's `model.onnx` and Grad-CAM++ graphs with ONNX Runtime (a loaded package's tfjs model is not used). */
export async function createOnnxEngine(
  source: ModelPackageSource | PackageReader | ModelPackage,
  options: OnnxEngineOptions = {},
): Promise<OnnxEngine> {
  const reader = readerOf(source);
  const card =
    options.card ?? (typeof source !== 'string' && 'card' in source ? source.card : await readModelCard(reader));
  if (!card.onnx?.model) {
    throw new XrayError(
      'MODEL_INVALID',
      `${reader.description} has no ONNX graph; run \`xray export-onnx --model DIR\` first`,
    );
  }
  const threads = options.threads ?? os.availableParallelism();
  const logger = options.logger ?? pino({ name: 'xray-ml' }, pino.destination(2));
  const providers: OnnxProvider[] = options.providers ?? (cudaInstalled() ? ['cuda', 'cpu'] : ['cpu']);
  const sessions = new SessionFactory(reader, card, threads, providers);
  const classifier = await sessions.open(card.onnx.model);
  const ood = await readOodModel(reader, card);
  if (ood && !classifier.outputNames.includes(FEATURES_OUTPUT)) {
    throw new XrayError(
      'MODEL_INVALID',
      `${reader.description}/${card.onnx.model} has no "${FEATURES_OUTPUT}" output for the out-of-distribution model; run \`xray export-onnx\` again`,
    );
  }
  const engine = new OnnxEngine(card, sessions, classifier, options.maxBatch ?? 16, ood, {
    engine: 'onnx',
    backend: sessions.provider,
    threads,
    modelName: card.name,
    modelVersion: card.version,
    modelSha256: card.weightsSha256,
  });
  if (options.warmUp !== false) await engine.classify([new Float32Array(engine.inputSize)]);
  logger.info(
    { ...engine.info, ...(sessions.fallback ? { providerFallback: sessions.fallback } : {}) },
    'onnx inference engine ready',
  );
  return engine;
}

function readerOf(source: ModelPackageSource | PackageReader | ModelPackage): PackageReader {
  if (typeof source === 'string') return packageReader(source);
  if ('read' in source) return source;
  if ('reader' in source) return source.reader;
  return packageReader(source);
}

/** Opens the package's graphs with one provider choice, checking they belong to the card's weights. */
class SessionFactory {
  provider: OnnxProvider;
  /** Why a preferred provider was given up (e.g. CUDA present but failing), for the start-up log. */
  fallback?: string;

  constructor(
    readonly reader: PackageReader,
    private readonly card: ModelCard,
    private readonly threads: number,
    private providers: OnnxProvider[],
  ) {
    this.provider = providers[0];
  }

  async open(file: string): Promise<ort.InferenceSession> {
    const bytes = await this.reader.read(file);
    const sha = readOnnxMetadata(bytes)[WEIGHTS_METADATA];
    if (sha !== this.card.weightsSha256) {
      throw new XrayError(
        'MODEL_INVALID',
        `${this.reader.description}/${file} was exported from other weights than the card's; run \`xray export-onnx\` again`,
      );
    }
    let lastError: unknown;
    for (const provider of this.providers) {
      try {
        const session = await ort.InferenceSession.create(bytes, {
          executionProviders: [provider],
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
          // Both workers share the cores: busy-waiting intra-op threads would steal them from each other
          // (measured 190 -> 62 ms per DenseNet201 image with two processes side by side).
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        });
        this.provider = provider;
        this.providers = [provider];
        return session;
      } catch (error) {
        lastError = error;
        this.fallback = `${provider}: ${(error as Error).message}`;
      }
    }
    throw new XrayError(
      'MODEL_INVALID',
      `ONNX Runtime could not load ${this.reader.description}/${file}: ${(lastError as Error).message}`,
      { cause: lastError },
    );
  }
}

export class OnnxEngine implements InferenceEngine {
  private readonly gradcams = new Map<string, Promise<ort.InferenceSession>>();
  private layerNames?: Promise<string[]>;

  constructor(
    readonly card: ModelCard,
    private readonly sessions: SessionFactory,
    private readonly classifier: ort.InferenceSession,
    private readonly maxBatch: number,
    private readonly ood: OodModel | undefined,
    readonly info: EngineInfo,
  ) {}

  /** Number of floats in one preprocessed image. */
  get inputSize(): number {
    const p = this.card.preprocessing;
    return p.width * p.height * p.channels;
  }

  async classify(batch: Float32Array[]): Promise<Classification[]> {
    const views = viewsPerImage(this.card);
    const inputs = withTestTimeViews(batch, this.card);
    const classes = this.card.labels.length;
    const logitRows: Float32Array[] = [];
    const featureRows: Float32Array[] = [];
    // A multiple of the views per image, so that an image and its mirror share a call (when maxBatch allows).
    const step = Math.max(1, this.maxBatch - (this.maxBatch % views));
    for (let start = 0; start < inputs.length; start += step) {
      const chunk = inputs.slice(start, start + step);
      const output = await this.classifier.run(
        { input: this.toTensor(chunk, start) },
        this.ood ? ['logits', FEATURES_OUTPUT] : ['logits'],
      );
      const logits = output.logits.data as Float32Array;
      const features = output[FEATURES_OUTPUT]?.data as Float32Array | undefined;
      for (let i = 0; i < chunk.length; i++) {
        logitRows.push(logits.slice(i * classes, (i + 1) * classes));
        if (features) {
          const size = features.length / chunk.length;
          featureRows.push(features.slice(i * size, (i + 1) * size));
        }
      }
    }
    return meanOverViews(logitRows, views).map((logits, i) => {
      const classification = toClassification(calibratedSoftmax(logits, this.card.temperature), this.card);
      // The OOD threshold was calibrated on unmirrored images: score the image's own features.
      if (this.ood && featureRows.length > 0) classification.ood = oodResult(this.ood, featureRows[i * views]);
      return classification;
    });
  }

  async explain(input: Float32Array, options: { classIndex?: number; layer?: string } = {}): Promise<GradCamMap> {
    return (await this.explainBatch([input], options))[0];
  }

  /** Grad-CAM++ for several images at once (same layer; same class when `classIndex` is given). */
  async explainBatch(
    inputs: Float32Array[],
    options: { classIndex?: number; layer?: string } = {},
  ): Promise<GradCamMap[]> {
    const layer = options.layer ?? this.card.gradcam.targetLayer;
    const { classIndex } = options;
    if (
      classIndex !== undefined &&
      !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < this.card.labels.length)
    ) {
      throw new XrayError(
        'VALIDATION_FAILED',
        `class index ${classIndex} is outside 0..${this.card.labels.length - 1}`,
      );
    }
    const session = await this.gradcam(layer);
    const maps: GradCamMap[] = [];
    for (let start = 0; start < inputs.length; start += this.maxBatch) {
      const chunk = inputs.slice(start, start + this.maxBatch);
      const requested = new ort.Tensor('int64', new BigInt64Array(chunk.length).fill(BigInt(classIndex ?? -1)), [
        chunk.length,
      ]);
      const output = await session.run({ input: this.toTensor(chunk, start), class_index: requested }, [
        'map',
        'explained_class',
      ]);
      const [, h, w] = output.map.dims;
      const data = output.map.data as Float32Array;
      const explained = output.explained_class.data as BigInt64Array;
      chunk.forEach((_, i) =>
        maps.push({
          classIndex: Number(explained[i]),
          layer,
          mapShape: [h, w],
          map: data.slice(i * h * w, (i + 1) * h * w),
        }),
      );
    }
    return maps;
  }

  /**
   * The target layer's graph (gradcam.onnx) also outputs `map:<layer>` for the animation layers
   * it was exported with (one backward pass); a graph exported without them gives the target only.
   */
  async explainAcrossDepth(input: Float32Array, options: { classIndex?: number } = {}): Promise<LayerMaps> {
    assertClassIndex(this.card.labels, options.classIndex);
    const { targetLayer } = this.card.gradcam;
    const session = await this.gradcam(targetLayer);
    const extra = session.outputNames.filter((name) => name.startsWith(layerMapOutput('')));
    const requested = new ort.Tensor('int64', BigInt64Array.of(BigInt(options.classIndex ?? -1)), [1]);
    const output = await session.run({ input: this.toTensor([input], 0), class_index: requested }, [
      'map',
      ...extra,
      'explained_class',
    ]);
    const classIndex = Number((output.explained_class.data as BigInt64Array)[0]);
    const maps = [['map', targetLayer], ...extra.map((name) => [name, name.slice(layerMapOutput('').length)])].map(
      ([name, layer]) => {
        const [, h, w] = output[name].dims;
        return { classIndex, layer, mapShape: [h, w] as [number, number], map: output[name].data as Float32Array };
      },
    );
    this.layerNames ??= readLayerNames(this.sessions.reader);
    const names = await this.layerNames;
    return toLayerMaps(maps, names, targetLayer, animationLayersOf(this.card, names));
  }

  async dispose(): Promise<void> {
    const gradcams = await Promise.allSettled(this.gradcams.values());
    this.gradcams.clear();
    for (const session of gradcams) if (session.status === 'fulfilled') await session.value.release();
    await this.classifier.release();
  }

  private gradcam(layer: string): Promise<ort.InferenceSession> {
    let session = this.gradcams.get(layer);
    if (!session) {
      const file = gradCamFileFor(this.card, layer);
      if (!file) {
        const exported = [this.card.gradcam.targetLayer, ...(this.card.gradcam.animationLayers ?? [])].join(', ');
        throw new XrayError(
          'VALIDATION_FAILED',
          `the ONNX package has no Grad-CAM++ graph for layer '${layer}' (exported: ${exported}); use the tfjs engine for other layers`,
        );
      }
      session = this.sessions.open(file);
      session.catch(() => this.gradcams.delete(layer));
      this.gradcams.set(layer, session);
    }
    return session;
  }

  private toTensor(batch: Float32Array[], offset: number): ort.Tensor {
    const p = this.card.preprocessing;
    return new ort.Tensor('float32', joinBatch(batch, this.card, offset), [
      batch.length,
      p.height,
      p.width,
      p.channels,
    ]);
  }
}
