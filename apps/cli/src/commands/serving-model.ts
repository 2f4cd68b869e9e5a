// The model as the workers serve it, for the commands that open or build it: where the package is,
// which engine opens it, and how an image becomes the model's input.
import type { EngineChoice } from '@xray/ml';
import { decodeImage, type DecodedImage, toModelInput } from '@xray/imaging';
import { readConfigVar } from '@xray/platform/config';
import type { PreprocessingSpec } from '@xray/shared';
import { perturbRendering, type PhotometricParams } from '@xray/model-tools';

/** The shipped model, as the workers find it (MODEL_DIR, relative to the working directory). */
export const DEFAULT_MODEL_DIR = readConfigVar('modelDir') as string;

// The same file is rendered again for every augmented copy and robustness change: decode it once.
const decoded = new WeakMap<Uint8Array, Promise<DecodedImage>>();

function decodeOnce(bytes: Uint8Array): Promise<DecodedImage> {
  let image = decoded.get(bytes);
  if (!image) {
    image = decodeImage(bytes);
    decoded.set(bytes, image);
  }
  return image;
}

/**
 * The serving path, used by training and evaluation alike: bytes -> decodeImage -> toModelInput;
 * `change` alters the decoded rendering first (augmentation, robustness), as another site's would differ.
 */
export async function servingPreprocess(
  bytes: Uint8Array,
  spec: PreprocessingSpec,
  change?: PhotometricParams,
): Promise<Float32Array> {
  const image = await decodeOnce(bytes);
  if (!change) return toModelInput(image, spec);
  return toModelInput({ ...image, pixels: perturbRendering(image.pixels, image.width, image.height, change) }, spec);
}

/** The engine the workers would use (ENGINE=onnx|tfjs|auto, read through the config schema). */
export function configuredEngine(): EngineChoice {
  return readConfigVar('engine') as EngineChoice;
}
