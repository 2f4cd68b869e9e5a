import { readFileSync, readdirSync } from 'node:fs';
import { XrayError } from '@xray/shared';
import { describeWithShared, sharedPath } from '@xray/testing';
import { decodeImage, decodeStoredFrame, renderStoredFrame } from '../src';

const wg04 = (name: string) => readFileSync(sharedPath('data/dicom/wg04', name));
const pydicom = (name: string) => readFileSync(sharedPath('data/dicom/pydicom', name));

function difference(a: ArrayLike<number>, b: ArrayLike<number>): { meanAbs: number; max: number } {
  expect(a.length).toBe(b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { meanAbs: sum / a.length, max };
}

function range(values: Uint8Array): [number, number] {
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}

describeWithShared('NEMA WG04 radiographs', ['data/dicom/wg04'], () => {
  const facts: Record<string, { width: number; height: number; photometric: string; bitsStored: number }> = {
    RG1: { width: 1841, height: 1955, photometric: 'MONOCHROME1', bitsStored: 15 },
    RG2: { width: 1760, height: 2140, photometric: 'MONOCHROME2', bitsStored: 10 },
    RG3: { width: 1760, height: 1760, photometric: 'MONOCHROME1', bitsStored: 10 },
  };
  const present = (rg: string): string[] =>
    readdirSync(sharedPath('data/dicom/wg04'))
      .filter((f) => f.startsWith(`${rg}_`))
      .map((f) => f.slice(4))
      .sort();

  /** Each file is decoded once: stored values compared, then rendered and checked. */
  async function decodeAndCheck(rg: string, variant: string): Promise<ArrayLike<number>> {
    const frame = await decodeStoredFrame(wg04(`${rg}_${variant}`));
    const image = await renderStoredFrame(frame);
    const expected = facts[rg];
    expect({
      variant,
      width: frame.pixelModule.columns,
      height: frame.pixelModule.rows,
      photometric: frame.metadata.photometricInterpretation,
      bitsStored: frame.metadata.bitsStored,
    }).toEqual({
      variant,
      ...expected,
    });
    expect(image.window.source).toBe('window-tags');
    expect(image.pixels.length).toBe(expected.width * expected.height);
    expect(range(image.pixels)).toEqual([0, 255]); // the stretch uses the whole 8-bit range
    return frame.samples;
  }

  it('has the 18 radiograph files', () => {
    expect(['RG1', 'RG2', 'RG3'].flatMap(present).length).toBe(18);
  });

  // Lossless variants must reproduce the uncompressed stored values exactly. Lossy tolerances
  // are on the 10-bit stored values (0..1023); measured worst cases over RG2/RG3:
  // J2KI mean 1.2 / max 87, JLSN mean 2.1 / max 4 (its NEAR bound), JPLY mean 3.8 / max 101.
  const TOLERANCE: Record<string, { meanAbs: number; max: number }> = {
    J2KR: { meanAbs: 0, max: 0 },
    JLSL: { meanAbs: 0, max: 0 },
    JPLL: { meanAbs: 0, max: 0 },
    RLE: { meanAbs: 0, max: 0 },
    J2KI: { meanAbs: 3, max: 128 },
    JLSN: { meanAbs: 3, max: 8 },
    JPLY: { meanAbs: 6, max: 128 },
  };

  describe.each(['RG2', 'RG3'])('%s: every variant against UNC', (rg) => {
    let reference: ArrayLike<number>;
    beforeAll(async () => {
      reference = await decodeAndCheck(rg, 'UNC');
    });
    it.each(Object.entries(TOLERANCE))('%s', async (variant, tolerance) => {
      const d = difference(await decodeAndCheck(rg, variant), reference);
      if (tolerance.max === 0) expect(d).toEqual({ meanAbs: 0, max: 0 });
      else {
        expect(d.meanAbs).toBeGreaterThan(0); // really lossy, really compared
        expect(d.meanAbs).toBeLessThanOrEqual(tolerance.meanAbs);
        expect(d.max).toBeLessThanOrEqual(tolerance.max);
      }
    });
  });

  it('RG1 (only lossy variants here): J2KI and JLSN agree within 0.5% mean and 2% max of the 15-bit range', async () => {
    expect(present('RG1')).toEqual(expect.arrayContaining(['J2KI', 'JLSN']));
    const d = difference(await decodeAndCheck('RG1', 'J2KI'), await decodeAndCheck('RG1', 'JLSN'));
    expect(d.meanAbs).toBeLessThanOrEqual(0.005 * 32767);
    expect(d.max).toBeLessThanOrEqual(0.02 * 32767);
  });
});

describeWithShared('pydicom test files', ['data/dicom/pydicom'], () => {
  // Deliberately malformed or non-image files and the error each must give.
  it.each([
    ['MR_truncated.dcm', 'CORRUPT_FILE'], // data set ends inside Pixel Data
    ['rtplan_truncated.dcm', 'CORRUPT_FILE'], // data set ends mid-element
    ['meta_missing_tsyntax.dcm', 'CORRUPT_FILE'], // no (0002,0010); read as implicit VR: 2-byte Pixel Data, no Rows/Columns
    ['nested_priv_SQ.dcm', 'CORRUPT_FILE'], // same nested private sequences; dicom-parser cannot parse them
    ['no_meta.dcm', 'UNSUPPORTED_FORMAT'], // meta header cut off one byte late: a stray byte before the data set
    ['no_meta_group_length.dcm', 'NOT_AN_IMAGE'],
    ['ExplVR_BigEndNoMeta.dcm', 'NOT_AN_IMAGE'], // RT plan, big endian, no meta header
    ['ExplVR_LitEndNoMeta.dcm', 'NOT_AN_IMAGE'],
    ['rtplan.dcm', 'NOT_AN_IMAGE'],
    ['rtstruct.dcm', 'NOT_AN_IMAGE'],
    ['test-SR.dcm', 'NOT_AN_IMAGE'],
    ['reportsi.dcm', 'NOT_AN_IMAGE'],
    ['priv_SQ.dcm', 'NOT_AN_IMAGE'],
    ['empty_charset_LEI.dcm', 'NOT_AN_IMAGE'],
  ])('%s -> %s', async (name, code) => {
    const error = await decodeImage(pydicom(name)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(XrayError);
    expect((error as XrayError).code).toBe(code);
  });

  it('badVR.dcm (an invalid VR on a non-pixel element) still decodes: the pixels are intact', async () => {
    const image = await decodeImage(pydicom('badVR.dcm'));
    expect([image.width, image.height]).toEqual([10, 10]);
  });

  it('bad_sequence.dcm (an invalid UN sequence) decodes its JPEG lossless pixels', async () => {
    const image = await decodeImage(pydicom('bad_sequence.dcm'));
    expect(image).toMatchObject({ width: 512, height: 512, window: { source: 'window-tags' } });
  });

  it('emri_small_jpeg_2k_lossless_too_short.dcm (no sequence delimiter) decodes: its first frame is complete', async () => {
    const short = await decodeStoredFrame(pydicom('emri_small_jpeg_2k_lossless_too_short.dcm'));
    const full = await decodeStoredFrame(pydicom('emri_small.dcm'));
    expect(difference(short.samples, full.samples).max).toBe(0);
  });

  // Same pixels whatever the encoding: implicit/explicit, big endian, RLE, JPEG-LS, JPEG 2000.
  it.each([
    [
      'MR_small.dcm',
      [
        'MR_small_implicit.dcm',
        'MR_small_bigendian.dcm',
        'MR_small_expb.dcm',
        'MR_small_RLE.dcm',
        'MR_small_jp2klossless.dcm',
        'MR_small_jpeg_ls_lossless.dcm',
      ],
    ],
    [
      'emri_small.dcm',
      [
        'emri_small_big_endian.dcm',
        'emri_small_RLE.dcm',
        'emri_small_jpeg_ls_lossless.dcm',
        'emri_small_jpeg_2k_lossless.dcm',
      ],
    ],
    ['OBXXXX1A.dcm', ['OBXXXX1A_expb.dcm', 'OBXXXX1A_rle.dcm', 'OBXXXX1A_rle_2frame.dcm']],
    ['SC_rgb.dcm', ['SC_rgb_expb.dcm', 'SC_rgb_rle.dcm', 'SC_rgb_2frame.dcm', 'SC_rgb_jpeg_gdcm.dcm']],
    ['rtdose.dcm', ['rtdose_1frame.dcm', 'rtdose_expb.dcm', 'rtdose_rle.dcm']],
    ['liver.dcm', ['liver_1frame.dcm', 'liver_expb.dcm']],
    ['JPEG2000_UNC.dcm', ['JPEG2000.dcm']],
    // pydicom #693: Bits Stored 14 in the file, 16-bit precision in the J2K codestream.
    ['693_UNCR.dcm', ['693_J2KR.dcm']],
    ['693_UNCI.dcm', ['693_J2KI.dcm']],
  ])('%s has the same stored values in every encoding', async (reference, others) => {
    const base = await decodeStoredFrame(pydicom(reference));
    const rendered = await decodeImage(pydicom(reference));
    for (const name of others) {
      const frame = await decodeStoredFrame(pydicom(name));
      expect({ name, ...difference(frame.samples, base.samples) }).toEqual({ name, meanAbs: 0, max: 0 });
      expect((await decodeImage(pydicom(name))).pixels).toEqual(rendered.pixels);
    }
  });

  it.each([
    // name, width, height, window source, photometric
    ['CT_small.dcm', 128, 128, 'percentile', 'MONOCHROME2'], // signed, rescale -1024
    ['image_dfl.dcm', 512, 512, 'percentile', 'MONOCHROME2'], // deflated
    ['JPEG-lossy.dcm', 256, 1024, 'percentile', 'MONOCHROME2'], // JPEG extended 12-bit
    ['JPEG-LL.dcm', 256, 1024, 'percentile', 'MONOCHROME2'], // JPEG lossless process 14
    ['JPGLosslessP14SV1_1s_1f_8b.dcm', 1024, 768, 'window-tags', 'MONOCHROME2'],
    ['MR2_J2KI.dcm', 1024, 1024, 'window-tags', 'MONOCHROME2'],
    ['MR_small_padded.dcm', 64, 64, 'window-tags', 'MONOCHROME2'],
    ['eCT_Supplemental.dcm', 512, 512, 'percentile', 'MONOCHROME2'], // 2 frames
    ['explicit_VR-UN.dcm', 512, 512, 'percentile', 'MONOCHROME2'], // J2K, almost every VR "UN"
    ['mlut_18.dcm', 512, 512, 'percentile', 'MONOCHROME2'], // Modality LUT Sequence
    ['vlut_04.dcm', 512, 512, 'voi-lut-sequence', 'MONOCHROME2'],
    ['OT-PAL-8-face.dcm', 640, 480, 'none', 'PALETTE COLOR'],
    ['gdcm-US-ALOKA-16.dcm', 640, 480, 'percentile', 'PALETTE COLOR'], // segmented palette: indices as grey
    ['US1_J2KR.dcm', 640, 480, 'none', 'YBR_RCT'], // metadata keeps the file's photometric
    ['SC_rgb_jpeg_dcmtk.dcm', 100, 100, 'none', 'YBR_FULL'],
    ['SC_ybr_full_422_uncompressed.dcm', 100, 100, 'none', 'YBR_FULL_422'],
    ['SC_rgb_rle_32bit.dcm', 100, 100, 'none', 'RGB'],
    ['ExplVR_BigEnd.dcm', 80, 60, 'none', 'RGB'],
  ])('%s decodes (%dx%d, %s window)', async (name, width, height, source, photometric) => {
    const image = await decodeImage(pydicom(name));
    expect({
      width: image.width,
      height: image.height,
      source: image.window?.source,
      photometric: image.metadata.photometricInterpretation,
    }).toEqual({
      width,
      height,
      source,
      photometric,
    });
    const distinct = new Set(image.pixels).size;
    expect(distinct).toBeGreaterThan(1); // a real picture, not a flat fill
  });

  it('renders the colour variants of SC_rgb alike: YBR, 16/32-bit and lossy JPEG (mean <= 1, max <= 10 levels)', async () => {
    const base = (await decodeImage(pydicom('SC_rgb.dcm'))).pixels;
    const variants = readdirSync(sharedPath('data/dicom/pydicom')).filter(
      (f) => /^SC_(rgb|ybr)_/.test(f) && !f.includes('small_odd'),
    );
    expect(variants.length).toBeGreaterThan(30);
    for (const name of variants) {
      const d = difference((await decodeImage(pydicom(name))).pixels, base);
      expect({ name, ok: d.meanAbs <= 1 && d.max <= 10 }).toEqual({ name, ok: true });
    }
  });

  it('JPEG 2000 colour (YBR_RCT / YBR_ICT) comes out of the codec as RGB, lossless and lossy alike', async () => {
    const lossless = await decodeStoredFrame(pydicom('US1_J2KR.dcm'));
    const lossy = await decodeStoredFrame(pydicom('US1_J2KI.dcm'));
    expect([lossless.photometric, lossy.photometric]).toEqual(['RGB', 'RGB']);
    const d = difference((await renderStoredFrame(lossy)).pixels, (await renderStoredFrame(lossless)).pixels);
    expect(d.meanAbs).toBeLessThanOrEqual(3);
  });

  it('CT_small: the window is in modality units (rescale intercept -1024 gives Hounsfield units)', async () => {
    const { window } = await decodeImage(pydicom('CT_small.dcm'));
    const { center, width } = window ?? { center: NaN, width: NaN };
    expect(center - width / 2).toBeLessThan(-800); // air
    expect(center + width / 2).toBeGreaterThan(1000); // bone
  });
});
