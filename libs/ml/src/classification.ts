import { confidenceBand, type PreprocessingSpec, XrayError } from '@xray/shared';
import type { Classification } from './engine';
import type { ModelCard } from './model-card';

/** Joins per-image NHWC inputs into one batch buffer, checking each against the card's input size. */
export function joinBatch(batch: Float32Array[], card: ModelCard, firstIndex = 0): Float32Array {
  const p = card.preprocessing;
  const size = p.height * p.width * p.channels;
  const joined = new Float32Array(size * batch.length);
  batch.forEach((image, i) => {
    checkInputSize(image, p, firstIndex + i);
    joined.set(image, i * size);
  });
  return joined;
}

function checkInputSize(image: Float32Array, p: PreprocessingSpec, index: number): void {
  const size = p.height * p.width * p.channels;
  if (image.length !== size) {
    throw new XrayError(
      'VALIDATION_FAILED',
      `input ${index} has ${image.length} values; the model takes ${p.height}x${p.width}x${p.channels} = ${size}`,
    );
  }
}

/** One NHWC image mirrored left-right: each row's pixels reversed along the width, channels kept together. */
export function mirrorHorizontally(input: Float32Array, spec: PreprocessingSpec): Float32Array {
  const { width, height, channels } = spec;
  const mirrored = new Float32Array(input.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width; x++) {
      const from = row + x * channels;
      const to = row + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) mirrored[to + c] = input[from + c];
    }
  }
  return mirrored;
}

/** How many views of each image classify runs: 2 with the card's `hflip` test-time augmentation, else 1. */
export function viewsPerImage(card: ModelCard): number {
  return card.testTimeAugmentation === 'hflip' ? 2 : 1;
}

/**
 * The model's inputs for a batch: with `hflip`, each image then its left-right mirror (image i's
 * rows are 2i, the unmirrored one, and 2i + 1); without test-time augmentation, the batch itself.
 */
export function withTestTimeViews(batch: Float32Array[], card: ModelCard): Float32Array[] {
  if (viewsPerImage(card) === 1) return batch;
  return batch.flatMap((image, i) => {
    checkInputSize(image, card.preprocessing, i);
    return [image, mirrorHorizontally(image, card.preprocessing)];
  });
}

/** Each image's class scores (logits) averaged over its consecutive view rows. */
export function meanOverViews(rows: ArrayLike<number>[], views: number): number[][] {
  return Array.from({ length: rows.length / views }, (_, i) => {
    const own = rows.slice(i * views, (i + 1) * views);
    return Array.from(own[0], (_, k) => own.reduce((sum, row) => sum + row[k], 0) / views);
  });
}

/** Calibrated probabilities softmax(z / T) from one image's logits. */
export function calibratedSoftmax(logits: ArrayLike<number>, temperature = 1): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exp = values.map((z) => Math.exp((z - max) / temperature));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

/** The product's view of one image's (already calibrated) probabilities: label, band, top-5. */
export function toClassification(probabilities: number[], card: ModelCard): Classification {
  const order = probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  const [confidence, classIndex] = order[0];
  return {
    classIndex,
    label: card.labels[classIndex],
    confidence,
    band: confidenceBand(confidence, card.bands),
    probabilities,
    top5: order.slice(0, 5).map(([probability, i]) => ({ label: card.labels[i], probability })),
  };
}
