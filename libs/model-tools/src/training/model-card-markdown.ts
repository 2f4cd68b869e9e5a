import { type ModelCard } from '@xray/ml';
import type { PreprocessingSpec } from '@xray/shared';
import type { AugmentationConfig } from './augment';
import type { FineTuneConfig } from './fine-tune';
import type { ConfidenceIntervals, Interval } from './intervals';
import type { EvaluationMetrics } from './metrics';
import type { RobustnessReport } from './robustness';

export interface ModelCardMarkdownInput {
  card: ModelCard;
  validation: EvaluationMetrics & { intervals: ConfidenceIntervals; uncalibratedEce: number };
  /** Training images per class (reference counts, multi-label rows count for each label). */
  trainCounts: number[];
  /** The command that reproduces this model, and the folder it writes. */
  command: string;
  outDir: string;
  wallSeconds: number;
  machine: string;
  /** Backbone origin and licence lines. */
  attribution: string[];
}

/** The steps from the decoded rendering to the model input, in the order toModelInput runs them. */
function inputDescription(p: PreprocessingSpec): string {
  return [
    `${p.width}x${p.height}, grey rendering replicated to ${p.channels} channels, normalisation \`${p.normalization}\`, resize \`${p.resize}\``,
    ...(p.lowPassSigma ? [`then a Gaussian blur of sigma ${p.lowPassSigma} px (damps pixel noise)`] : []),
    ...(p.rendering === 'equalized' ? ['then global histogram equalisation of the grey levels'] : []),
  ].join(', ');
}

function describeAugmentation(a: AugmentationConfig | undefined): string {
  if (!a) return 'none';
  const p = a.photometric;
  const photometric = p
    ? `; before that, photometric: the plain min-max or (probability ${p.voiProbability}) a VOI-clipped rendering clipping up to ${100 * p.voiClip} % at each end, window centre +-${p.windowCentre} and width x${1 - p.windowWidth}-${1 + p.windowWidth}, gamma ${(1 / (1 + p.gamma)).toFixed(2)}-${1 + p.gamma}, contrast x${1 - p.contrast}-${1 + p.contrast}, brightness +-${p.brightness}, Gaussian blur sigma 0.3-${p.blurSigma} px (probability ${p.blurProbability}), Gaussian noise sigma up to ${p.noiseSigma} (probability ${p.noiseProbability})`
    : '';
  return `rotation up to ${a.rotationDegrees} degrees, a quarter/half/three-quarter turn with probability ${a.quarterTurnProbability}, shifts up to ${100 * a.shift} %, shear up to ${a.shearDegrees} degrees, zoom ${1 - a.zoom}-${1 + a.zoom}${photometric}`;
}

const pct = (value: number | null) => (value === null ? '-' : `${(100 * value).toFixed(1)} %`);
const range = (interval: Interval) => `${(100 * interval.low).toFixed(1)}-${(100 * interval.high).toFixed(1)} %`;

/** MODEL_CARD.md for a trained package, written by `xray train` next to model-card.json. */
export function renderModelCardMarkdown(input: ModelCardMarkdownInput): string {
  const { card, validation: v } = input;
  const split = (card.training?.split ?? {}) as Record<string, unknown>;
  const data = (card.training?.data ?? {}) as Record<string, unknown>;
  const rare = v.perClass
    .filter((c) => c.support < 5)
    .map(
      (c) => `${c.label} (${c.support} validation, ${input.trainCounts[card.labels.indexOf(c.label)]} training images)`,
    );
  const fineTune = card.training?.fineTune as FineTuneConfig | undefined;
  const allImages = card.training?.allImages as
    | { images: number; patients: number; headEpochs: number; fineTuneEpochs: number; splitRunWeightsSha256: string }
    | undefined;
  const robustness = (card.metrics?.validation as { robustness?: RobustnessReport } | undefined)?.robustness;
  const worst = robustness?.perPerturbation.reduce((a, b) => (b.labelKept < a.labelKept ? b : a));
  const weak = v.perClass
    .filter((c) => c.recall !== null && c.recall < 0.8 && c.support >= 5)
    .map((c) => `${c.label} (recall ${pct(c.recall)})`);
  return [
    `# Model card: ${card.name} ${card.version}`,
    '',
    '**Intended use:** research and demonstration of body-part classification of radiographs (the 22 UNIFESP classes) with confidence bands and Grad-CAM++ explanations. **Not a medical device**; not for diagnosis or any clinical decision.',
    '',
    '## Model',
    `- Architecture: ${card.architecture}; one TensorFlow.js LayersModel (backbone + head), weights sha256 \`${card.weightsSha256}\`.`,
    `- Input: ${inputDescription(card.preprocessing)} (libs/imaging \`decodeImage\` -> \`toModelInput\`, the same path in training, evaluation and serving).`,
    `- Grad-CAM++ target layer: \`${card.gradcam.targetLayer}\`.`,
    `- Calibration: softmax temperature ${card.temperature?.toFixed(3) ?? '1'} fitted on the validation split (minimum NLL). Bands: green > ${card.bands.green}, orange >= ${card.bands.orange}, red below.`,
    ...(card.testTimeAugmentation === 'hflip'
      ? [
          '- Test-time augmentation: class scores averaged (in logit space) over the image and its left-right mirror, as in the temperature fit and the validation figures below (early stopping used the image alone).',
        ]
      : []),
    ...(typeof card.training?.logitAdjustment === 'number'
      ? [
          `- Logit adjustment: tau ${card.training.logitAdjustment}, the head's bias lowered by tau x log of each class's share of the training images, for a class mix closer to balanced than the training data's (before the temperature fit).`,
        ]
      : []),
    ...input.attribution.map((line) => `- ${line}`),
    '',
    '## Data and split',
    `- Data: ${String(data.description ?? `the images listed in ${String(data.labels)}`)} (${String(data.count)} images). Rows may carry several labels; a prediction counts as right when it is any of them.`,
    `- Split grouped by PatientID (no patient on both sides), stratified by each patient's rarest class, seed ${String(split.seed)}: ${String(split.trainImages)} training images (${String(split.trainPatients)} patients), ${String(split.validationImages)} validation images (${String(split.validationPatients)} patients). Everything below is measured on the validation patients; the validation split was also used for early stopping, for the temperature, and for choosing the backbone and head, so these figures are somewhat optimistic.`,
    fineTune
      ? `- Training: backbone frozen up to \`${fineTune.fromLayer}\`; its input activations for each training image and for ${String(card.training?.augmentedCopies)} augmented copies (${describeAugmentation(card.training?.augmentation as AugmentationConfig | undefined)}) computed once; a fresh head trained with Adam on the pooled features of the frozen top, ${String(card.training?.classWeighting)} class weighting and early stopping on the validation loss; then the top (\`${fineTune.fromLayer}\` to the cut layer, batch normalisation frozen) and the head fine-tuned together with Adam at learning rate ${fineTune.learningRate}, an L2 pull of ${fineTune.weightDecay} towards the pretrained weights, and early stopping on the validation loss.`
      : `- Training: frozen backbone; features of each training image and of ${String(card.training?.augmentedCopies)} augmented copies (${describeAugmentation(card.training?.augmentation as AugmentationConfig | undefined)}) computed once; a fresh head trained with Adam, ${String(card.training?.classWeighting)} class weighting and early stopping on the validation loss.`,
    ...(allImages
      ? [
          `- **Shipped weights: trained on all ${allImages.images} images (${allImages.patients} patients)** with the recipe and the epoch counts the split run chose (head ${allImages.headEpochs} epochs${fineTune ? `, fine-tuning ${allImages.fineTuneEpochs} epochs` : ''}), no validation; the temperature is the split run's. Every figure below is the split run's (weights sha256 \`${allImages.splitRunWeightsSha256.slice(0, 12)}...\`, trained on ${String(split.trainImages)} images): the shipped model has seen the validation patients, so nothing here measures it on them.`,
        ]
      : []),
    '',
    '## Validation results',
    `- Top-1 accuracy (any label): **${pct(v.top1Accuracy)}**; macro-averaged recall: **${pct(v.macroRecall)}** (over ${v.perClass.filter((c) => c.support > 0).length} classes present in validation).`,
    `- ${100 * v.intervals.level} % confidence intervals (bootstrap over the ${v.intervals.patients} validation patients, ${v.intervals.resamples} resamples): top-1 ${range(v.intervals.top1Accuracy)}, macro recall ${range(v.intervals.macroRecall)}. With this few images per class, differences inside these ranges are not evidence that one model is better.`,
    `- Project target on held-out patients (top-1 >= 95 %, macro recall >= 85 %): ${v.top1Accuracy >= 0.95 && v.macroRecall >= 0.85 ? 'met' : '**not met**'}.`,
    `- Expected calibration error: ${v.ece.toFixed(3)} after temperature scaling (${v.uncalibratedEce.toFixed(3)} before); NLL ${v.nll.toFixed(3)}.`,
    `- Bands: green ${pct(v.bands.green.share)} of images at ${pct(v.bands.green.accuracy)} accuracy; orange ${pct(v.bands.orange.share)} at ${pct(v.bands.orange.accuracy)}; red ${pct(v.bands.red.share)} at ${pct(v.bands.red.accuracy)}.`,
    ...(card.ood
      ? [
          `- Out-of-distribution warning: Mahalanobis distance of the pooled \`${card.ood.featureLayer}\` features to the nearest of ${card.ood.classes} class means, shared covariance of the ${card.ood.fit.trainImages} training images (${card.ood.components} leading eigenvectors plus one variance for the rest, shrinkage ${card.ood.fit.shrinkage}), in \`${card.ood.file}\` (sha256 \`${card.ood.sha256}\`). Threshold ${card.ood.threshold.toFixed(3)}: ${card.ood.fit.thresholdToMedianTrainingScore ? `${card.ood.fit.thresholdToMedianTrainingScore.toFixed(3)} x the median training score, the split run's ratio, whose threshold left ${pct(card.ood.fit.validationShareAbove)} of the validation images above it` : `${pct(card.ood.fit.validationShareAbove)} of the validation images lie above it`} (target ${pct(card.ood.fit.targetValidationShare)}).`,
        ]
      : []),
    ...(robustness && worst
      ? [
          `- Robustness (\`xray evaluate\`: each validation image again under ${robustness.perturbations} fixed rendering changes of the decoded image, docs/training.md): label kept under all of them on ${pct(robustness.labelKept)} of the images, mean top-1 confidence change ${robustness.meanConfidenceChange.toFixed(3)}; the hardest change, ${worst.name}: ${pct(worst.labelKept)} kept, ${worst.meanConfidenceChange.toFixed(3)}.${keptByBand(robustness.byBand)}`,
        ]
      : []),
    '',
    '| class | training images | validation images | precision | recall |',
    '|---|---:|---:|---:|---:|',
    ...v.perClass.map(
      (c, k) => `| ${c.label} | ${input.trainCounts[k]} | ${c.support} | ${pct(c.precision)} | ${pct(c.recall)} |`,
    ),
    '',
    '## Known weaknesses',
    `- Classes with fewer than 5 validation images: ${rare.length ? rare.join(', ') : 'none'}. Their figures rest on a handful of images and are not reliable estimates; the rarest classes (Clavicles, Skull, Forearm, Thigh, Finger) have fewer than 10 images in the whole data set.`,
    ...(weak.length ? [`- Lower recall: ${weak.join(', ')}.`] : []),
    '- One source (one hospital network, computed radiography, 8-bit renderings made from DICOM): other vendors, DR detectors, children, implants, unusual positioning or post-processing may be classified worse. Check on your own data with `xray evaluate`.',
    fineTune
      ? `- Only the top of the backbone (from \`${fineTune.fromLayer}\`) was adapted to radiographs; the lower layers keep their photograph (ImageNet) features.`
      : '- The backbone is frozen: features come from photographs, not radiographs.',
    '',
    '## Reproduce',
    '```bash',
    input.command,
    `npx xray export-onnx --model ${input.outDir}   # the ONNX Runtime graphs (ENGINE=auto serves with them)`,
    '```',
    `Training wall time: ${input.wallSeconds.toFixed(0)} s on ${input.machine}.`,
    '',
  ].join('\n');
}

/** Labels kept per band of the unchanged prediction; cards of 1.2.0 and older lack the figure. */
function keptByBand(byBand: RobustnessReport['byBand'] | undefined): string {
  if (!byBand) return '';
  const { green, orange, red } = byBand;
  return ` By band of the unchanged image: green ${pct(green.labelKept)} kept (${green.images} images), orange ${pct(orange.labelKept)} (${orange.images}), red ${pct(red.labelKept)} (${red.images}).`;
}
