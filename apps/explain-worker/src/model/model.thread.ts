import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, toModelInput } from '@xray/imaging';
import { createEngine, createTfjsEngine, encodeLayerMaps, type EngineChoice, type InferenceEngine } from '@xray/ml';
import { serveThread, type ModelRuntime, type ModelThreadData, type RuntimeMemory } from '@xray/platform';
import { isXrayError } from '@xray/shared';
import type { ExplainRequest, GradCamResponse, ModelInfo } from './protocol';

const quiet = { info: () => undefined }; // the main thread logs the engine once loaded (ModelThread)

/**
 * The explain model thread: decode with the card's preprocessing, Grad-CAM++ at the card's
 * target layer and animation layers (one backward pass; the maps across depth are encoded
 * here, a few KB), the render thread draws the PNGs. The engine is the one ENGINE chooses, as
 * for the prediction; an ONNX package without a Grad-CAM++ graph is explained with tfjs.
 */
serveThread<ExplainRequest, GradCamResponse>(async () => {
  const { modelDir, engine: choice } = workerData as ModelThreadData;
  const engine = await createEngine(modelDir, { engine: choice as EngineChoice, logger: quiet });
  const { explainer, runtime } = await gradCamEngine(engine, modelDir);
  const spec = engine.card.preprocessing;
  const info: ModelInfo = {
    name: engine.info.modelName,
    version: engine.info.modelVersion,
    sha256: engine.info.modelSha256,
    preprocessing: spec,
    runtime,
  };
  return {
    info,
    async handle({ image, classIndex, modelSha256 }) {
      if (modelSha256 !== info.sha256) {
        return {
          result: {
            ok: false,
            code: 'MODEL_INVALID',
            message: `the prediction was made by model weights ${modelSha256.slice(0, 12)}, this worker has ${info.sha256.slice(0, 12)}`,
            retry: true,
          },
        };
      }
      let decoded;
      const decodeStarted = performance.now();
      try {
        decoded = await decodeImage(image);
      } catch (error) {
        const code = isXrayError(error) ? error.code : 'CORRUPT_FILE';
        return { result: { ok: false, code, message: (error as Error).message, retry: false } };
      }
      const inputStarted = performance.now();
      const input = await toModelInput(decoded, spec);
      const modelStarted = performance.now();
      // The target layer and the animation layers in one pass; the heatmap is the target's.
      const depth = await explainer.explainAcrossDepth(input, { classIndex });
      const cam = depth.maps.find((m) => m.layer === depth.targetLayer)!;
      const modelMs = performance.now() - modelStarted;
      const layerMaps = encodeLayerMaps(depth, decoded, spec);
      // Own copies (the decoder's and the engine's arrays may be views on larger buffers): transferred to the main thread.
      const pixels = new Uint8Array(decoded.pixels);
      const map = new Float32Array(cam.map);
      const stages = { decode: inputStarted - decodeStarted, modelInput: modelStarted - inputStarted };
      return {
        result: {
          ok: true,
          cam: { classIndex: cam.classIndex, layer: cam.layer, mapShape: cam.mapShape, map },
          layerMaps,
          image: { pixels, width: decoded.width, height: decoded.height },
          modelMs,
          stages,
        },
        transfer: [pixels.buffer as ArrayBuffer, map.buffer as ArrayBuffer, layerMaps.buffer as ArrayBuffer],
      };
    },
    // tfjs's own count of live tensors and bytes, sent back with every answer (metrics); ONNX Runtime has no such count.
    memory: explainer.info.engine === 'tfjs' ? tfjsMemory : undefined,
  };
});

/**
 * The engine that computes the explanations: the chosen one, unless it is ONNX Runtime and the
 * package has no Grad-CAM++ graph for the target layer (exported before, or without, it): then
 * tfjs, which differentiates any layer, and the runtime says so (readiness and the log).
 */
async function gradCamEngine(
  engine: InferenceEngine,
  modelDir: string,
): Promise<{ explainer: InferenceEngine; runtime: ModelRuntime }> {
  const { engine: kind, backend, threads } = engine.info;
  if (kind !== 'onnx' || engine.card.onnx?.gradcam)
    return { explainer: engine, runtime: { engine: kind, backend, threads } };
  const explainer = await createTfjsEngine(modelDir, { logger: quiet, card: engine.card });
  const fallback = `the ONNX package has no Grad-CAM++ graph for layer '${engine.card.gradcam.targetLayer}': explanations run on tfjs (${explainer.info.backend})`;
  return { explainer, runtime: { engine: kind, backend, threads, explainEngine: 'tfjs', fallback } };
}

function tfjsMemory(): RuntimeMemory {
  const { numBytes, numTensors } = tf.memory();
  return { bytes: numBytes, tensors: numTensors };
}
