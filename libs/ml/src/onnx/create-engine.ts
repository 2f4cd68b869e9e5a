import { XrayError } from '@xray/shared';
import type { InferenceEngine } from '../engine';
import { readModelCard } from '../package/model-package';
import type { ModelPackageSource } from '../package/package-source';
import { createTfjsEngine, type TfjsEngineOptions } from '../tfjs/tfjs-engine';
import { createOnnxEngine, type OnnxEngineOptions } from './onnx-engine';

export type EngineChoice = 'onnx' | 'tfjs' | 'auto';

export interface CreateEngineOptions extends TfjsEngineOptions, OnnxEngineOptions {
  /** Default: the ENGINE environment variable, else 'auto' (ONNX when the package has model.onnx). */
  engine?: EngineChoice;
}

const CHOICES: EngineChoice[] = ['onnx', 'tfjs', 'auto'];

/** The engine a deployment asked for: `options.engine`, else ENGINE=onnx|tfjs|auto, else auto. */
export function engineChoice(
  options: { engine?: EngineChoice } = {},
  env: NodeJS.ProcessEnv = process.env,
): EngineChoice {
  if (options.engine) return options.engine;
  const value = env.ENGINE?.trim().toLowerCase();
  if (!value) return 'auto';
  if (!CHOICES.includes(value as EngineChoice))
    throw new XrayError('CONFIG_INVALID', `ENGINE must be one of ${CHOICES.join(', ')} (got '${env.ENGINE}')`);
  return value as EngineChoice;
}

/** Opens a model package with the chosen engine; 'auto' prefers ONNX Runtime when the package has it. */
export async function createEngine(
  source: ModelPackageSource,
  options: CreateEngineOptions = {},
): Promise<InferenceEngine> {
  let choice = engineChoice(options);
  if (choice === 'auto') choice = (await readModelCard(source)).onnx?.model ? 'onnx' : 'tfjs';
  return choice === 'onnx' ? createOnnxEngine(source, options) : createTfjsEngine(source, options);
}
