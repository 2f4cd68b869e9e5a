import sharp from 'sharp';

export interface BurnedInText {
  label: string;
  /** Calibrated confidence in [0, 1]. */
  confidence: number;
  /** The model found the input unlike the radiographs it was trained on. */
  outOfDistribution: boolean;
}

export const NOT_FOR_DIAGNOSIS = 'NOT FOR DIAGNOSIS';
export const NOT_A_RADIOGRAPH = 'NOT A RADIOGRAPH?';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SVG layer with the label and confidence, any out-of-distribution warning and the notice, scaled to the image. */
function annotationSvg(width: number, height: number, text: BurnedInText): Buffer {
  const size = Math.max(10, Math.round(Math.min(width, height) / 28));
  const pad = Math.round(size * 0.6);
  // The warning gets its own line: beside the label it would not fit a narrow image.
  const lines = [
    `${text.label}  ${(text.confidence * 100).toFixed(1)} %`,
    ...(text.outOfDistribution ? [NOT_A_RADIOGRAPH] : []),
    NOT_FOR_DIAGNOSIS,
  ];
  const tspans = lines
    .map((line, i) => `<text x="${pad}" y="${pad + size * (i + 1) * 1.25}">${escapeXml(line)}</text>`)
    .join('');
  // White text with a dark outline stays readable on any part of the heatmap.
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<g font-family="DejaVu Sans" font-weight="bold" font-size="${size}" fill="#ffffff" stroke="#000000" ` +
      `stroke-width="${Math.max(1, size / 8)}" paint-order="stroke">${tspans}</g></svg>`,
  );
}

/**
 * The overlay resized to the source image's Columns x Rows with the text burned in, as packed
 * 8-bit RGB (the Secondary Capture's pixel data).
 */
export async function renderAnnotatedOverlay(
  overlay: Buffer,
  columns: number,
  rows: number,
  text: BurnedInText,
): Promise<Buffer> {
  if (!Number.isInteger(columns) || !Number.isInteger(rows) || columns < 1 || rows < 1) {
    throw new Error(`invalid image size ${columns}x${rows}`);
  }
  const resized = await sharp(overlay)
    .resize(columns, rows, { fit: 'fill' })
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .png()
    .toBuffer();
  const { data, info } = await sharp(resized)
    .composite([{ input: annotationSvg(columns, rows, text), top: 0, left: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== columns || info.height !== rows) {
    throw new Error(`overlay rendered as ${info.width}x${info.height}x${info.channels}, expected ${columns}x${rows}x3`);
  }
  return data;
}
