import { confidenceBand, XrayError } from '@xray/shared';
import type { Classification } from './engine';
import type { ModelCard } from './model-card';

/** Joins per-image NHWC inputs into one batch buffer, checking each against the card's input size. */
export function joinBatch(batch: Float32Array[], card: ModelCard, firstIndex = 0): Float32Array {
  const p = card.preprocessing;
  const size = p.height * p.width * p.channels;
  const joined = new Float32Array(size * batch.length);
  batch.forEach((image, i) => {
    if (image.length !== size) {
      throw new XrayError(
        'VALIDATION_FAILED',
        `input ${firstIndex + i} has ${image.length} values; the model takes ${p.height}x${p.width}x${p.channels} = ${size}`,
      );
    }
    joined.set(image, i * size);
  });
  return joined;
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
