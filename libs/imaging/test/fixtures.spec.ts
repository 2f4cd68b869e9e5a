import sharp from 'sharp';
import { NativeCodecs, type Context } from 'dcmjs-codecs';
import { seededRandom, XrayError } from '@xray/shared';
import { decodeImage, decodeStoredFrame, detectFormat, equalizeHistogram, renderPng, toModelInput } from '../src';
import { buildDicom, encodeDataSet, imageElements, UID, type Element } from './dicom-builder';
import { compressedVariants, encodeFrame, nativeVariants, RAMP } from './sample-images';

async function expectCode(promise: Promise<unknown>, code: string): Promise<XrayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(XrayError);
  expect((error as XrayError).code).toBe(code);
  return error as XrayError;
}

const us = (tag: number, ...value: number[]): Element => ({ tag, vr: 'US', value });
const ds = (tag: number, value: string): Element => ({ tag, vr: 'DS', value });

describe('greyscale pipeline on generated DICOM', () => {
  it('applies rescale, then the window tags (PS3.3 LINEAR), then stretches to 0..255', async () => {
    const bytes = buildDicom(
      imageElements({
        rows: 2,
        columns: 3,
        bitsStored: 12,
        pixelData: Uint16Array.from([0, 1000, 2000, 3000, 4000, 4095]),
        extra: [ds(0x00281053, '2'), ds(0x00281052, '-1000'), ds(0x00281050, '3000\\40'), ds(0x00281051, '4001\\80')],
      }),
    );
    const image = await decodeImage(bytes);
    // modality: -1000, 1000, 3000, 5000, 7000, 7190; first window (3000/4001) spans (999.5, 4999.5]
    expect([...image.pixels]).toEqual([0, 0, 128, 255, 255, 255]);
    expect(image.window).toEqual({ center: 3000, width: 4001, source: 'window-tags' });
    expect(image).toMatchObject({ format: 'dicom', width: 3, height: 2 });
  });

  it('inverts MONOCHROME1 so that bone is bright, with the min-max window when the file has none', async () => {
    const bytes = buildDicom(
      imageElements({
        rows: 1,
        columns: 4,
        bitsAllocated: 8,
        photometric: 'MONOCHROME1',
        pixelData: Uint8Array.from([0, 50, 100, 200]),
      }),
    );
    const image = await decodeImage(bytes);
    expect([...image.pixels]).toEqual([255, 191, 127, 0]);
    expect(image.window).toEqual({ center: 100, width: 200, source: 'percentile' });
  });

  it('reads signed pixels and masks bits above Bits Stored', async () => {
    const signed = buildDicom(
      imageElements({
        rows: 1,
        columns: 4,
        signed: true,
        pixelData: Uint16Array.from([-2000, -1000, 0, 1000].map((v) => v & 0xffff)),
      }),
    );
    expect([...(await decodeImage(signed)).pixels]).toEqual([0, 85, 170, 255]);
    // 12 bits stored, signed: 0xFFFE and 0x0FFE are both -2; 0xF005 is 5 (junk above bit 11).
    const masked = buildDicom(
      imageElements({
        rows: 1,
        columns: 4,
        signed: true,
        bitsStored: 12,
        pixelData: Uint16Array.from([0xfffe, 0x0ffe, 0xf005, 0x0005]),
      }),
    );
    expect([...(await decodeImage(masked)).pixels]).toEqual([0, 0, 255, 255]);
  });

  it('excludes the pixel padding value from the window and renders it black', async () => {
    const bytes = buildDicom(
      imageElements({
        rows: 1,
        columns: 4,
        pixelData: Uint16Array.from([0, 100, 200, 300]),
        extra: [us(0x00280120, 0)],
      }),
    );
    const image = await decodeImage(bytes);
    expect([...image.pixels]).toEqual([0, 0, 128, 255]);
    expect(image.window).toEqual({ center: 200, width: 200, source: 'percentile' });
  });

  it('applies a VOI LUT Sequence and a Modality LUT Sequence', async () => {
    const lut = (seqTag: number, descriptor: number[], data: number[]): Element => ({
      tag: seqTag,
      vr: 'SQ',
      value: [[us(0x00283002, ...descriptor), { tag: 0x00283006, vr: 'US', value: data }]],
    });
    const voi = await decodeImage(
      buildDicom(
        imageElements({
          rows: 1,
          columns: 4,
          pixelData: Uint16Array.from([0, 1, 2, 3]),
          extra: [lut(0x00283010, [4, 0, 8], [0, 10, 200, 255])],
        }),
      ),
    );
    expect([...voi.pixels]).toEqual([0, 10, 200, 255]);
    expect(voi.window?.source).toBe('voi-lut-sequence');
    const modality = await decodeImage(
      buildDicom(
        imageElements({
          rows: 1,
          columns: 4,
          pixelData: Uint16Array.from([0, 1, 2, 3]),
          extra: [lut(0x00283000, [4, 0, 16], [100, 50, 25, 0])],
        }),
      ),
    );
    expect([...modality.pixels]).toEqual([255, 128, 64, 0]);
  });

  it('uses the first frame of a multi-frame object', async () => {
    const bytes = buildDicom(
      imageElements({ rows: 1, columns: 3, frames: 2, pixelData: Uint16Array.from([10, 20, 30, 7, 7, 7]) }),
    );
    const image = await decodeImage(bytes);
    expect([...image.pixels]).toEqual([0, 128, 255]);
    expect(image.metadata.numberOfFrames).toBe(2);
  });

  it('turns RGB into Rec. 601 luma', async () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    const image = await decodeImage(
      buildDicom(
        imageElements({
          rows: 2,
          columns: 2,
          bitsAllocated: 8,
          samplesPerPixel: 3,
          photometric: 'RGB',
          pixelData: rgb,
        }),
      ),
    );
    expect([...image.pixels]).toEqual([76, 150, 29, 255]);
    expect(image.window?.source).toBe('none');
  });

  it('keeps patient names and ids out of the metadata', async () => {
    const image = await decodeImage(
      buildDicom(imageElements({ rows: 1, columns: 2, pixelData: Uint16Array.from([1, 2]) })),
    );
    expect(image.metadata).toEqual({
      sopInstanceUid: '1.2.3.4.5.6.7',
      studyInstanceUid: '1.2.3.4.1',
      seriesInstanceUid: '1.2.3.4.2',
      modality: 'CR',
      bodyPartExamined: 'CHEST',
      photometricInterpretation: 'MONOCHROME2',
      rows: 1,
      columns: 2,
      bitsStored: 16,
      transferSyntaxUid: UID.explicitLE,
    });
    expect(JSON.stringify(image)).not.toMatch(/Doe|PATIENT-42/);
  });
});

describe('encodings of the same generated image give the same pixels', () => {
  const expected = Array.from(RAMP.stored);

  it.each(nativeVariants())('%s', async (_name, bytes) => {
    expect(detectFormat(bytes)).toBe('dicom');
    const frame = await decodeStoredFrame(bytes);
    expect(Array.from(frame.samples)).toEqual(expected);
    const image = await decodeImage(bytes);
    expect([image.width, image.height]).toEqual([RAMP.columns, RAMP.rows]);
  });

  it('compressed: RLE, JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K (encapsulated, fragmented)', async () => {
    const reference = (await decodeImage(nativeVariants()[0][1])).pixels;
    for (const [name, bytes] of await compressedVariants()) {
      const frame = await decodeStoredFrame(bytes);
      expect({ name, equal: Array.from(frame.samples).every((v, i) => v === expected[i]) }).toEqual({
        name,
        equal: true,
      });
      expect((await decodeImage(bytes)).pixels).toEqual(reference);
    }
  });
});

describe('lossy encodings of the generated image stay close', () => {
  const lossy = async (
    uid: string,
    samples: Uint8Array | Uint16Array,
    bitsStored: number,
    encode: (ctx: Context) => Context,
  ) => {
    const encoded = await encodeFrame(samples, bitsStored, encode);
    const bitsAllocated = samples instanceof Uint8Array ? 8 : 16;
    const elements = imageElements({
      rows: RAMP.rows,
      columns: RAMP.columns,
      bitsAllocated,
      bitsStored,
      pixelVr: 'OB',
      pixelData: { fragments: [encoded] },
    });
    const { samples: decoded } = await decodeStoredFrame(buildDicom(elements, { transferSyntaxUid: uid }));
    let sum = 0;
    let max = 0;
    for (let i = 0; i < samples.length; i++) {
      const d = Math.abs(decoded[i] - samples[i]);
      sum += d;
      max = Math.max(max, d);
    }
    return { meanAbs: sum / samples.length, max };
  };

  it('JPEG-LS near-lossless keeps every sample within its NEAR bound', async () => {
    const d = await lossy(UID.jpegLsNear, RAMP.stored, 12, (ctx) =>
      NativeCodecs.encodeJpegLs(ctx, { lossy: true, allowedLossyError: 3 }),
    );
    expect(d.max).toBeLessThanOrEqual(3);
    expect(d.meanAbs).toBeGreaterThan(0);
  });

  it('JPEG baseline (8-bit) and JPEG 2000 lossy stay within 2% mean error of the range', async () => {
    const grey8 = Uint8Array.from(RAMP.stored, (v) => v >> 4);
    const baseline = await lossy(UID.jpegBaseline, grey8, 8, (ctx) =>
      NativeCodecs.encodeJpeg(ctx, { lossy: true, quality: 90 }),
    );
    expect(baseline.meanAbs).toBeLessThanOrEqual(0.02 * 255);
    const j2k = await lossy(UID.j2kLossy, RAMP.stored, 12, (ctx) =>
      NativeCodecs.encodeJpeg2000(ctx, { lossy: true, rate: 10 }),
    );
    expect(j2k.meanAbs).toBeLessThanOrEqual(0.02 * 4095);
  });
});

describe('errors are typed', () => {
  const image = (extra: Element[] = [], pixelData: Element['value'] = Uint16Array.from([1, 2, 3, 4])) =>
    imageElements({ rows: 2, columns: 2, pixelData, extra });

  it('NOT_AN_IMAGE without Pixel Data', async () => {
    const noPixels = image().filter((e) => e.tag !== 0x7fe00010);
    await expectCode(decodeImage(buildDicom(noPixels)), 'NOT_AN_IMAGE');
  });

  it('UNSUPPORTED_TRANSFER_SYNTAX names the UID', async () => {
    const error = await expectCode(
      decodeImage(buildDicom(image(), { transferSyntaxUid: '1.2.840.10008.1.2.4.100' })),
      'UNSUPPORTED_TRANSFER_SYNTAX',
    );
    expect(error.message).toContain('1.2.840.10008.1.2.4.100');
  });

  it('CORRUPT_FILE for truncated pixel data, absurd sizes, bad bit depths and broken bitstreams', async () => {
    await expectCode(decodeImage(buildDicom(image([us(0x00280010, 200)]))), 'CORRUPT_FILE');
    await expectCode(decodeImage(buildDicom(image([us(0x00280010, 65535), us(0x00280011, 65535)]))), 'CORRUPT_FILE');
    await expectCode(decodeImage(buildDicom(image([us(0x00280100, 12)]))), 'CORRUPT_FILE');
    const bytes = buildDicom(image());
    await expectCode(decodeImage(bytes.subarray(0, bytes.length - 5)), 'CORRUPT_FILE');
    const junkJ2k = buildDicom(image([], { fragments: [Uint8Array.from([0xff, 0x4f, 0xff, 0x51, 1, 2, 3, 4])] }), {
      transferSyntaxUid: UID.j2k,
    });
    await expectCode(decodeImage(junkJ2k), 'CORRUPT_FILE');
    // The codec module is replaced after a failure and keeps working.
    for (const [name, compressed] of await compressedVariants()) {
      expect({ name, width: (await decodeImage(compressed)).width }).toEqual({ name, width: RAMP.columns });
    }
  });

  it('UNSUPPORTED_FORMAT for anything else', () => {
    for (const bytes of [
      new Uint8Array(0),
      Buffer.from('%PDF-1.7 hello'),
      Buffer.from('GIF89a......'),
      encodeDataSet([{ tag: 0x00990001, vr: 'LO', value: 'x' }], 'explicit-le'),
    ]) {
      expect(() => detectFormat(bytes)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_FORMAT' }));
    }
  });
});

describe('PNG and JPEG', () => {
  const grey = Uint8Array.from([0, 10, 20, 200, 250, 255]);

  it('decodes PNG by content to exact grey values (RGB grey as in the training PNGs)', async () => {
    const rgb = Uint8Array.from([...grey].flatMap((v) => [v, v, v]));
    const png = await sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } })
      .png()
      .toBuffer();
    expect(detectFormat(png)).toBe('png');
    const image = await decodeImage(png);
    expect(image).toMatchObject({ format: 'png', width: 3, height: 2, window: null });
    expect([...image.pixels]).toEqual([...grey]);
  });

  it('decodes JPEG', async () => {
    const jpeg = await sharp({ create: { width: 16, height: 8, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .jpeg()
      .toBuffer();
    const image = await decodeImage(jpeg);
    expect(image).toMatchObject({ format: 'jpeg', width: 16, height: 8 });
    for (const v of image.pixels) expect(Math.abs(v - 128)).toBeLessThanOrEqual(2);
  });

  it('CORRUPT_FILE for a truncated PNG', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await expectCode(decodeImage(png.subarray(0, 60)), 'CORRUPT_FILE');
  });

  it('renderPng writes the rendering at native size', async () => {
    const png = await renderPng({ pixels: grey, width: 3, height: 2 });
    expect(await sharp(png).metadata()).toMatchObject({
      format: 'png',
      width: 3,
      height: 2,
      channels: 1,
      depth: 'uchar',
    });
    const { data } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([...data]).toEqual([...grey]);
  });
});

describe('toModelInput', () => {
  const white = {
    format: 'png' as const,
    width: 4,
    height: 2,
    pixels: new Uint8Array(8).fill(255),
    window: null,
    metadata: {},
    decodeMs: 0,
  };

  it('stretches to the input size, replicates grey into 3 channels and normalises to [-1, 1]', async () => {
    const input = await toModelInput(white, {
      width: 8,
      height: 8,
      channels: 3,
      normalization: 'minus1to1',
      resize: 'stretch',
    });
    expect(input.length).toBe(8 * 8 * 3);
    for (const v of input) expect(v).toBeCloseTo(1, 5);
  });

  it('letterboxes with black borders, keeping the aspect ratio', async () => {
    const input = await toModelInput(white, {
      width: 8,
      height: 8,
      channels: 1,
      normalization: 'zero1',
      resize: 'letterbox',
    });
    expect(input[0]).toBeCloseTo(0, 5); // top-left: border
    expect(input[4 * 8 + 4]).toBeCloseTo(1, 5); // centre: image
    expect(input[7 * 8 + 4]).toBeCloseTo(0, 5); // bottom: border
  });

  it('applies ImageNet mean/std per channel', async () => {
    const input = await toModelInput(white, {
      width: 2,
      height: 2,
      channels: 3,
      normalization: 'imagenet',
      resize: 'stretch',
    });
    expect(input[0]).toBeCloseTo((1 - 0.485) / 0.229, 4);
    expect(input[1]).toBeCloseTo((1 - 0.456) / 0.224, 4);
    expect(input[2]).toBeCloseTo((1 - 0.406) / 0.225, 4);
  });

  it('equalizes the histogram when the spec asks, so an increasing grey-level change gives the same input', async () => {
    const ramp = Uint8Array.from({ length: 64 }, (_, i) => 40 + 2 * i);
    const image = { ...white, width: 8, height: 8, pixels: ramp };
    const spec = { width: 8, height: 8, channels: 1, normalization: 'zero1', resize: 'stretch' } as const;
    const plain = await toModelInput(image, spec);
    const equalized = await toModelInput(image, { ...spec, rendering: 'equalized' });
    // A darker, lower-contrast, gamma-changed rendering of the same ramp.
    const changed = { ...image, pixels: ramp.map((v) => Math.round(20 + 200 * (v / 255) ** 1.3)) };
    const changedEqualized = await toModelInput(changed, { ...spec, rendering: 'equalized' });
    expect(Math.min(...equalized)).toBe(0);
    expect(Math.max(...equalized)).toBe(1);
    expect(Array.from(changedEqualized)).toEqual(Array.from(equalized));
    expect(Array.from(await toModelInput(changed, spec))).not.toEqual(Array.from(plain));
  });

  it('low-passes the resized input when the spec asks: pixel noise damped, flat regions kept', async () => {
    const size = 32;
    const random = seededRandom(7);
    const noisy = Uint8Array.from({ length: size * size }, () => 108 + Math.floor(41 * random()));
    const image = { ...white, width: size, height: size, pixels: noisy };
    const spec = { width: size, height: size, channels: 1, normalization: 'zero1', resize: 'stretch' } as const;
    const spread = (values: Float32Array): number => {
      const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
      return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
    };
    const plain = await toModelInput(image, spec);
    const smoothed = await toModelInput(image, { ...spec, lowPassSigma: 1 });
    expect(spread(smoothed)).toBeLessThan(spread(plain) / 2.5);
    const flatImage = { ...white, width: size, height: size, pixels: new Uint8Array(size * size).fill(90) };
    const flat = await toModelInput(flatImage, { ...spec, lowPassSigma: 1 });
    for (const v of flat) expect(v).toBeCloseTo(90 / 255, 5);
  });

  it('equalizes levels to their cumulative share, darkest present level at 0', () => {
    expect(Array.from(equalizeHistogram(Uint8Array.from([10, 10, 20, 30])))).toEqual([0, 0, 128, 255]);
    expect(Array.from(equalizeHistogram(new Uint8Array(4).fill(7)))).toEqual([0, 0, 0, 0]);
  });
});

describe('bitstream headers are checked before a codec runs', () => {
  it('CORRUPT_FILE when the compressed frame declares another size than Rows/Columns', async () => {
    const encoded = await encodeFrame(RAMP.stored, 12, (ctx) => NativeCodecs.encodeJpeg2000(ctx, { lossy: false }));
    const elements = imageElements({
      rows: RAMP.rows * 2,
      columns: RAMP.columns,
      bitsStored: 12,
      pixelVr: 'OB',
      pixelData: { fragments: [encoded] },
    });
    const error = await expectCode(decodeImage(buildDicom(elements, { transferSyntaxUid: UID.j2k })), 'CORRUPT_FILE');
    expect(error.message).toContain(`declares ${RAMP.columns}x${RAMP.rows}`);
  });

  it('CORRUPT_FILE when Number of Frames promises more than the Pixel Data holds', async () => {
    const bytes = buildDicom(
      imageElements({ rows: 1, columns: 3, frames: 3, pixelData: Uint16Array.from([10, 20, 30, 7, 7, 7]) }),
    );
    await expectCode(decodeImage(bytes), 'CORRUPT_FILE');
  });
});
