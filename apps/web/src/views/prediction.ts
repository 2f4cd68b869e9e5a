/** The prediction as the clinician reads it: label, confidence in its band colour, top-5 bars. */
import { OUT_OF_DISTRIBUTION_WARNING, type PredictionDto } from '@xray/shared';
import { h } from '../dom';
import { BAND_NAMES, percent } from '../format';

/** Colour is never the only signal: the badge also names the band. An out-of-distribution input shows "not a radiograph?" instead. */
export function confidenceBadge(prediction: PredictionDto): HTMLSpanElement {
  if ((prediction.warnings ?? []).includes(OUT_OF_DISTRIBUTION_WARNING)) {
    return h(
      'span',
      {
        class: 'badge band-ood',
        title: `Unlike the radiographs the model was trained on (out-of-distribution score ${prediction.oodScore?.toFixed(2) ?? '?'}): the label ${percent(prediction.confidence)} is not to be trusted`,
        'aria-label': `not a radiograph? ${percent(prediction.confidence)}`,
      },
      'not a radiograph?',
    );
  }
  return h(
    'span',
    {
      class: `badge band-${prediction.band}`,
      title: BAND_NAMES[prediction.band],
      'aria-label': `${percent(prediction.confidence)}, ${BAND_NAMES[prediction.band]}`,
    },
    percent(prediction.confidence),
  );
}

export function top5Bars(prediction: PredictionDto): HTMLOListElement {
  return h(
    'ol',
    { class: 'top5', 'aria-label': 'Top 5 body parts' },
    ...prediction.top5.map((entry, rank) =>
      h(
        'li',
        { class: 'top5-row' },
        h('span', { class: 'top5-label' }, entry.label),
        h(
          'span',
          { class: 'top5-track', 'aria-hidden': 'true' },
          barOf(entry.probability, rank === 0 ? `band-${prediction.band}` : ''),
        ),
        h('span', { class: 'top5-value' }, percent(entry.probability)),
      ),
    ),
  );
}

/** Width set through the CSSOM: the page's Content-Security-Policy forbids inline style attributes. */
function barOf(probability: number, className: string): HTMLSpanElement {
  const bar = h('span', { class: `top5-bar ${className}` });
  bar.style.width = `${Math.max(0.5, probability * 100).toFixed(1)}%`;
  return bar;
}
