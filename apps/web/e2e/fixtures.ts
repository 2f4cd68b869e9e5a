/**
 * Small synthetic radiograph-like PNGs and JPEGs for the browser tests (the DICOM comes from
 * @xray/testing's makeDicom). No patient data: the pixels are drawn here.
 */
import sharp from 'sharp';

/** Two "bones" in a soft-tissue silhouette on a dark background; position and width vary by seed. */
export function syntheticPixels(width: number, height: number, seed: number): Uint8Array {
  const pixels = new Uint8Array(width * height);
  const tilt = ((seed % 7) - 3) * 0.04;
  const bones = [0.4 + (seed % 5) * 0.01, 0.6 - (seed % 3) * 0.015];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width - tilt * (y / height - 0.5);
      const tissue = Math.abs(u - 0.5) < 0.3 ? 70 + 30 * Math.cos((u - 0.5) * 5) : 12;
      const bone = bones.some((b) => Math.abs(u - b) < 0.045 + 0.01 * Math.sin(y / 9 + seed)) ? 120 : 0;
      pixels[y * width + x] = Math.min(255, tissue + bone + ((x * 31 + y * 17 + seed) % 9));
    }
  }
  return pixels;
}

function raw(seed: number, size: number) {
  return sharp(Buffer.from(syntheticPixels(size, size, seed)), { raw: { width: size, height: size, channels: 1 } });
}

export function pngFile(seed: number, size = 96): Promise<Buffer> {
  return raw(seed, size).png().toBuffer();
}

export function jpegFile(seed: number, size = 96): Promise<Buffer> {
  return raw(seed, size).jpeg({ quality: 90 }).toBuffer();
}
