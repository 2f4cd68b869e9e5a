import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  animationLayersOf,
  gradCamFileFor,
  loadModelPackage,
  MODEL_CARD_JSON,
  ONNX_GRADCAM_FILE,
  ONNX_MODEL_FILE,
  WEIGHTS_METADATA,
  type ModelCard,
} from '@xray/ml';
import { exportGradCam } from './export-gradcam';
import { exportClassifier } from './export-model';
import { verifyClassifier } from './verify';

export interface OnnxExportStep {
  /** 1-based. */
  step: number;
  total: number;
  file: string;
  bytes: number;
  /** model.onnx: the largest output difference from the tfjs model on a test input. */
  maxDifference?: number;
}

/**
 * Adds `model.onnx` and the Grad-CAM++ graphs (target layer, with extra outputs for the
 * animation layers, and one graph per animation layer) to the model
 * package in `dir`, and records them in its card. The classifier is checked against the tfjs
 * model before anything is written; the weights' sha256 goes into each graph so that the engine
 * refuses graphs exported from other weights.
 */
export async function exportOnnxPackage(
  dir: string,
  onStep: (step: OnnxExportStep) => void = () => undefined,
): Promise<ModelCard> {
  const pkg = await loadModelPackage(dir);
  try {
    const { card, model } = pkg;
    const metadata = { [WEIGHTS_METADATA]: card.weightsSha256 };
    const withOnnx: ModelCard = { ...card, onnx: { model: ONNX_MODEL_FILE, gradcam: ONNX_GRADCAM_FILE } };
    const layers = [
      card.gradcam.targetLayer,
      ...(card.gradcam.animationLayers ?? []).filter((l) => l !== card.gradcam.targetLayer),
    ];
    const classifier = exportClassifier(model, metadata, card.ood?.featureLayer);
    const maxDifference = await verifyClassifier(model, classifier);
    const files = layers.map((layer) => gradCamFileFor(withOnnx, layer) as string);
    const total = files.length + 1;
    await writeAtomically(path.join(dir, ONNX_MODEL_FILE), classifier);
    onStep({ step: 1, total, file: ONNX_MODEL_FILE, bytes: classifier.byteLength, maxDifference });
    // gradcam.onnx also outputs the maps across depth (the explain worker's animation), one backward pass for all.
    const acrossDepth = animationLayersOf(
      card,
      model.layers.map((l) => l.name),
    );
    for (const [i, layer] of layers.entries()) {
      const bytes = exportGradCam(model, layer, metadata, i === 0 ? acrossDepth : []);
      await writeAtomically(path.join(dir, files[i]), bytes);
      onStep({ step: i + 2, total, file: files[i], bytes: bytes.byteLength });
    }
    // The card last: a package never names graphs that are not fully written.
    await writeAtomically(path.join(dir, MODEL_CARD_JSON), `${JSON.stringify(withOnnx, null, 2)}\n`);
    return withOnnx;
  } finally {
    pkg.model.dispose();
  }
}

/** Writes through a temporary file and a rename, so readers never see half a file. */
export async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, data);
  await fs.rename(temp, file);
}
