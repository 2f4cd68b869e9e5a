import { renderHeatmapPng, renderOverlayPng } from '@xray/ml';
import { serveThread } from '@xray/platform';
import type { RenderRequest, RenderResponse } from './protocol';

/**
 * The render thread: heatmap and overlay PNGs at the image's resolution. Apart from the model
 * thread so that, with EXPLAIN_CONCURRENCY >= 2, one job's rendering runs on one core while
 * the next job's Grad-CAM++ runs on another (with a cheap model the rendering costs more).
 */
serveThread<RenderRequest, RenderResponse>(async () => ({
  info: {},
  async handle({ cam, image, spec }) {
    // Own copies: their buffers are transferred to the main thread.
    const [heatmapPng, overlayPng] = (
      await Promise.all([renderHeatmapPng(cam, spec, image), renderOverlayPng(cam, spec, image)])
    ).map((png) => new Uint8Array(png));
    return {
      result: { heatmapPng, overlayPng },
      transfer: [heatmapPng.buffer as ArrayBuffer, overlayPng.buffer as ArrayBuffer],
    };
  },
}));
