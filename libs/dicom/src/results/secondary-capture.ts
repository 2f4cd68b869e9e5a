/**
 * One Secondary Capture per instance: the Grad-CAM++ overlay at the source image's size with the
 * prediction ("NOT A RADIOGRAPH?" when out of distribution) and "NOT FOR DIAGNOSIS" burned in,
 * filed in the source study in its own series.
 */
import { OUT_OF_DISTRIBUTION_WARNING } from '@xray/shared';
import { dicomDateTime, equipmentModules, patientAndStudyModules, withCharacterSet } from './common-modules';
import { renderAnnotatedOverlay } from './overlay-render';
import { toArrayBuffer, writePart10 } from './part10';
import type { DicomObject, SecondaryCaptureInput } from './types';
import { deterministicUid } from './uids';

export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
export const SC_SERIES_DESCRIPTION = 'AI body part - Grad-CAM++';
export const SC_SERIES_NUMBER = 9902;

/** The SC's UID: the result and the model (a new model makes a new image, a retry the same one). */
export function secondaryCaptureUid(input: Pick<SecondaryCaptureInput, 'instance' | 'model'>): string {
  return secondaryCaptureUidOf(input.instance.resultId, input.model.sha256);
}

/** The same UID from its parts alone (what the study.completed webhook announces before the SC is built). */
export function secondaryCaptureUidOf(resultId: string, modelSha256: string): string {
  return deterministicUid('sc', `${resultId}|${modelSha256}`);
}

export async function buildSecondaryCaptureDataset(input: SecondaryCaptureInput): Promise<Record<string, unknown>> {
  const { source, prediction } = input.instance;
  const pixels = await renderAnnotatedOverlay(input.overlay, source.Columns, source.Rows, {
    label: prediction.label,
    confidence: prediction.confidence,
    outOfDistribution: prediction.warnings.includes(OUT_OF_DISTRIBUTION_WARNING),
  });
  const { date, time } = dicomDateTime(input.completedAt);
  const dataset: Record<string, unknown> = {
    SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
    SOPInstanceUID: secondaryCaptureUid(input),
    ...patientAndStudyModules(input.study),
    Modality: 'OT',
    Laterality: '',
    SeriesInstanceUID: deterministicUid('sc-series', input.study.StudyInstanceUID),
    SeriesNumber: SC_SERIES_NUMBER,
    SeriesDescription: SC_SERIES_DESCRIPTION,
    ...equipmentModules(input.producer, input.model, input.completedAt),
    ConversionType: 'WSD',
    InstanceNumber: source.InstanceNumber ?? 1,
    PatientOrientation: '',
    ContentDate: date,
    ContentTime: time,
    DateOfSecondaryCapture: date,
    TimeOfSecondaryCapture: time,
    ImageType: ['DERIVED', 'SECONDARY'],
    BurnedInAnnotation: 'YES',
    DerivationDescription:
      `Grad-CAM++ heatmap of layer ${input.layer} over the input of ${input.model.name} ` +
      `${input.model.version}; prediction burned in. Not for diagnosis.`,
    SourceImageSequence: [
      { ReferencedSOPClassUID: source.SOPClassUID, ReferencedSOPInstanceUID: source.SOPInstanceUID },
    ],
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: source.Rows,
    Columns: source.Columns,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [toArrayBuffer(pixels)],
    _vrMap: { PixelData: 'OB' },
  };
  return withCharacterSet(input.study.SpecificCharacterSet, dataset);
}

/** The instance's SC as a DICOM Part 10 object. */
export async function buildSecondaryCapture(input: SecondaryCaptureInput): Promise<DicomObject> {
  const dataset = await buildSecondaryCaptureDataset(input);
  return {
    kind: 'sc',
    sopClassUid: SECONDARY_CAPTURE_SOP_CLASS,
    sopInstanceUid: dataset['SOPInstanceUID'] as string,
    seriesInstanceUid: dataset['SeriesInstanceUID'] as string,
    studyInstanceUid: input.study.StudyInstanceUID,
    bytes: writePart10(dataset),
  };
}
