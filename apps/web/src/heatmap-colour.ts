/**
 * Grad-CAM++ heatmaps may come as grey intensity maps; laid over a radiograph (itself grey) they
 * would be unreadable, so grey maps are coloured here (jet: blue low, red high) with weak
 * activations left transparent. Colour heatmaps are shown as they are.
 */

/** Colours a grey RGBA buffer in place; returns false (untouched) when it is not grey. */
export function colouriseGrey(rgba: Uint8ClampedArray): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  for (let i = 0; i < rgba.length; i += 4) {
    const v = rgba[i] / 255;
    rgba[i] = channel(v, 3);
    rgba[i + 1] = channel(v, 2);
    rgba[i + 2] = channel(v, 1);
    // Fade in over the lowest 30 % so that the unexplained background stays clear.
    rgba[i + 3] = Math.round(255 * Math.min(1, v / 0.3) * (rgba[i + 3] / 255));
  }
  return true;
}

function channel(v: number, centre: number): number {
  return Math.round(255 * Math.max(0, Math.min(1, 1.5 - Math.abs(4 * v - centre))));
}

/** Decodes a heatmap PNG and colours it when grey (browser only: uses a canvas). */
export async function colourHeatmap(blob: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d');
  if (!context) return blob;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  if (!colouriseGrey(pixels.data)) return blob;
  context.putImageData(pixels, 0, 0);
  return new Promise((resolve) => canvas.toBlob((coloured) => resolve(coloured ?? blob), 'image/png'));
}
