/** The Grad-CAM++ Secondary Capture, checked with dciodvfy and dcmdump and read back with dcmjs. */
import { dciodvfy, dcmtk } from '../../test/dicom-tools';
import { readDicom, tempDir, type Natural } from '../../test/read-dicom';
import { outOfDistribution, overlayPng, studyInput, STUDY_UID } from '../../test/result-fixtures';
import { buildSecondaryCapture, SECONDARY_CAPTURE_SOP_CLASS } from './secondary-capture';
import type { SecondaryCaptureInput } from './types';

// External tools and servers on a shared machine: allow for slow starts.
jest.setTimeout(60_000);

const tmp = tempDir('xray-sc-');
afterAll(() => tmp.remove());

const first = (sq: unknown): Natural => [sq].flat()[0] as Natural;

/** White pixels of the 240 x 300 SC above and from row `split` on (the gradient alone never reaches white). */
function whiteText(dataset: Natural, split: number): { above: number; below: number } {
  const pixels = new Uint8Array(first(dataset.PixelData) as ArrayBuffer);
  const count = { above: 0, below: 0 };
  for (let y = 0; y < 300; y++) {
    for (let x = 0; x < 240; x++) {
      const i = (y * 240 + x) * 3;
      if (pixels[i] === 255 && pixels[i + 1] === 255 && pixels[i + 2] === 255) count[y < split ? 'above' : 'below']++;
    }
  }
  return count;
}

async function scInput(overrides: Partial<SecondaryCaptureInput> = {}): Promise<SecondaryCaptureInput> {
  const study = studyInput();
  return {
    study: study.study,
    instance: study.instances[0],
    model: study.model,
    producer: study.producer,
    layer: 'top_conv',
    overlay: await overlayPng(),
    completedAt: study.completedAt,
    ...overrides,
  };
}

describe('Grad-CAM++ Secondary Capture', () => {
  let input: SecondaryCaptureInput;
  let sc: Awaited<ReturnType<typeof buildSecondaryCapture>>;
  let dataset: Natural;
  beforeAll(async () => {
    input = await scInput();
    sc = await buildSecondaryCapture(input);
    dataset = readDicom(sc.bytes);
  });

  it('passes dciodvfy with no errors', () => {
    const check = dciodvfy(tmp.file('sc.dcm', sc.bytes));
    expect(check.output).toContain('SCImage');
    expect(check.errors).toEqual([]);
    // The one warning: Laterality (type 2C) is present but empty, as the body part is not known to be paired.
    expect(check.warnings.every((w) => w.includes('<Laterality>'))).toBe(true);
  });

  it('is RGB at the source image resolution, in its own series of the source study, marked burned-in', () => {
    expect(dataset).toMatchObject({
      SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
      StudyInstanceUID: STUDY_UID,
      PatientID: 'PAT-001',
      SeriesDescription: 'AI body part - Grad-CAM++',
      Rows: 300,
      Columns: 240,
      SamplesPerPixel: 3,
      PhotometricInterpretation: 'RGB',
      BitsAllocated: 8,
      BurnedInAnnotation: 'YES',
      ConversionType: 'WSD',
    });
    expect([dataset.ImageType].flat()).toEqual(['DERIVED', 'SECONDARY']);
    expect(dataset.DerivationDescription).toContain('layer top_conv');
    expect(first(dataset.SourceImageSequence)).toMatchObject({
      ReferencedSOPClassUID: input.instance.source.SOPClassUID,
      ReferencedSOPInstanceUID: input.instance.source.SOPInstanceUID,
    });
    expect(first(dataset.ContributingEquipmentSequence).Manufacturer).toBe('xray-bodypart project');
    const pixels = new Uint8Array(first(dataset.PixelData) as ArrayBuffer);
    expect(pixels.length).toBe(300 * 240 * 3);
  });

  it('has the text burned into the pixels: two lines, label and notice', () => {
    const { above, below } = whiteText(dataset, 40);
    expect(above).toBeGreaterThan(100);
    expect(below).toBe(0);
  });

  it('burns in a third line, "NOT A RADIOGRAPH?", for an out-of-distribution input; still valid', async () => {
    const flagged = await buildSecondaryCapture(await scInput({ instance: outOfDistribution(input.instance) }));
    const check = dciodvfy(tmp.file('ood.dcm', flagged.bytes));
    expect(check.errors).toEqual([]);
    const back = readDicom(flagged.bytes);
    // The warning takes the second line and pushes the notice onto a third one, still near the top.
    expect(whiteText(back, 40).below).toBeGreaterThan(30);
    expect(whiteText(back, 50).below).toBe(0);
  });

  it('dcmdump shows the burned-in flag and the source reference', () => {
    const dump = dcmtk('dcmdump', [tmp.file('dump.dcm', sc.bytes)]);
    expect(dump).toContain('(0028,0301) CS [YES]');
    expect(dump).toContain(input.instance.source.SOPInstanceUID);
  });

  it('is byte-identical when built again; another model gives another image UID in the same series', async () => {
    const again = await buildSecondaryCapture(await scInput());
    expect(again.bytes.equals(sc.bytes)).toBe(true);
    const other = await buildSecondaryCapture(await scInput({ model: { ...input.model, sha256: '0'.repeat(64) } }));
    expect(other.sopInstanceUid).not.toBe(sc.sopInstanceUid);
    expect(other.seriesInstanceUid).toBe(sc.seriesInstanceUid);
  });

  it('rejects an overlay that is not an image and a source without a size', async () => {
    await expect(buildSecondaryCapture(await scInput({ overlay: Buffer.from('not an image') }))).rejects.toThrow();
    const bad = await scInput();
    bad.instance = { ...bad.instance, source: { ...bad.instance.source, Rows: 0 } };
    await expect(buildSecondaryCapture(bad)).rejects.toThrow(/invalid image size/);
  });
});
