import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, renderPng, toModelInput, type ImageMetadata } from '@xray/imaging';
import { createEngine, type EngineChoice } from '@xray/ml';
import { serveThread, type ModelThreadData, type RuntimeMemory } from '@xray/platform';
import { isXrayError, type DicomFactsDto } from '@xray/shared';
import type { ClassifyOutcome, ClassifyRequest, ClassifyResponse, ModelInfo } from './protocol';

interface DecodedForModel {
  input: Float32Array;
  png: Uint8Array;
  dicom: DicomFactsDto | null;
  decodeMs: number;
  inputMs: number;
  renderMs: number;
}
type Prepared = DecodedForModel | { code: string; message: string };

/** The model thread: owns the engine (ENGINE: ONNX Runtime or tfjs); decodes, preprocesses and classifies batches. */
serveThread<ClassifyRequest, ClassifyResponse>(async () => {
  const { modelDir, engine: choice } = workerData as ModelThreadData;
  // The main thread logs the engine once loaded (ModelThread).
  const engine = await createEngine(modelDir, { engine: choice as EngineChoice, logger: { info: () => undefined } });
  const { info: e } = engine;
  const spec = engine.card.preprocessing;
  const info: ModelInfo = {
    name: e.modelName,
    version: e.modelVersion,
    sha256: e.modelSha256,
    preprocessing: spec,
    runtime: { engine: e.engine, backend: e.backend, threads: e.threads },
  };
  return {
    info,
    async handle({ images }) {
      const prepared = await Promise.all(
        images.map(async (bytes): Promise<Prepared> => {
          try {
            const image = await decodeImage(bytes);
            const [[input, inputMs], [png, renderMs]] = await Promise.all([
              timed(toModelInput(image, spec)),
              timed(renderPng(image)),
            ]);
            return {
              input,
              png: new Uint8Array(png),
              dicom: image.format === 'dicom' ? dicomFacts(image.metadata) : null,
              decodeMs: image.decodeMs,
              inputMs,
              renderMs,
            };
          } catch (error) {
            if (isXrayError(error)) return { code: error.code, message: error.message };
            return { code: 'CORRUPT_FILE', message: `The image could not be decoded: ${(error as Error).message}` };
          }
        }),
      );
      const ready = prepared.filter((p): p is DecodedForModel => 'input' in p);
      const started = performance.now();
      const classifications = ready.length > 0 ? await engine.classify(ready.map((p) => p.input)) : [];
      const modelMs = performance.now() - started;
      let next = 0;
      const outcomes = prepared.map((p): ClassifyOutcome => {
        if (!('input' in p)) return { ok: false, ...p };
        const c = classifications[next++];
        return {
          ok: true,
          label: c.label,
          classIndex: c.classIndex,
          confidence: c.confidence,
          band: c.band,
          top5: c.top5,
          probabilities: c.probabilities,
          ood: c.ood,
          dicom: p.dicom,
          renderingPng: p.png,
          decodeMs: p.decodeMs,
          inputMs: p.inputMs,
          renderMs: p.renderMs,
        };
      });
      return {
        result: { outcomes, modelMs },
        transfer: outcomes.flatMap((o) => (o.ok ? [o.renderingPng.buffer as ArrayBuffer] : [])),
      };
    },
    // tfjs's own count of live tensors and bytes, sent back with every answer (metrics); ONNX Runtime has no such count.
    memory: e.engine === 'tfjs' ? tfjsMemory : undefined,
  };
});

/** The value and its wall time (the stage breakdown in bench/pipeline). */
async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work;
  return [value, performance.now() - started];
}

function tfjsMemory(): RuntimeMemory {
  const { numBytes, numTensors } = tf.memory();
  return { bytes: numBytes, tensors: numTensors };
}

/** The DICOM facts kept with an instance: these fields only (ImageMetadata holds no patient identifiers). */
const DICOM_FACTS: ReadonlyArray<keyof DicomFactsDto & keyof ImageMetadata> = [
  'sopInstanceUid',
  'studyInstanceUid',
  'seriesInstanceUid',
  'modality',
  'bodyPartExamined',
  'studyDescription',
  'seriesDescription',
  'photometricInterpretation',
  'rows',
  'columns',
  'transferSyntaxUid',
];

function dicomFacts(m: ImageMetadata): DicomFactsDto {
  return Object.fromEntries(DICOM_FACTS.map((key) => [key, m[key]])) as DicomFactsDto;
}
