import type { InferenceEngine } from '../engine';
import { readModelCard } from '../package/model-package';
import type { ModelPackageSource } from '../package/package-source';
import { createTfjsEngine, type TfjsEngineOptions } from '../tfjs/tfjs-engine';
import { createOnnxEngine, type OnnxEngineOptions } from './onnx-engine';

export type EngineChoice = 'onnx' | 'tfjs' | 'auto';

export interface CreateEngineOptions extends TfjsEngineOptions, OnnxEngineOptions {
  /** Default 'auto' (ONNX when the package has model.onnx). Apps pass ENGINE from their config. */
  engine?: EngineChoice;
}

/** Opens a model package with the chosen engine; 'auto' prefers ONNX Runtime when the package has it. */
export async function createEngine(
  source: ModelPackageSource,
  options: CreateEngineOptions = {},
): Promise<InferenceEngine> {
  // The card is read once here and handed to the engine, which would otherwise read it again.
  const card = options.card ?? (await readModelCard(source));
  const choice = (options.engine ?? 'auto') === 'auto' ? (card.onnx?.model ? 'onnx' : 'tfjs') : options.engine;
  return choice === 'onnx'
    ? createOnnxEngine(source, { ...options, card })
    : createTfjsEngine(source, { ...options, card });
}
