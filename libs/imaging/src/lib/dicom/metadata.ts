import type { DataSet } from 'dicom-parser';
import type { ImageMetadata } from '../types';

/** Storage facts. Patient name/id (0010,xxxx) are never read here, so they cannot leak. */
export function readMetadata(ds: DataSet, transferSyntaxUid: string): ImageMetadata {
  const text = (tag: string): string | undefined => {
    try {
      const value = ds.string(tag)?.replace(/\0/g, '').trim();
      return value ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const number = (value: number | undefined): number | undefined =>
    value !== undefined && Number.isFinite(value) ? value : undefined;
  const facts: ImageMetadata = {
    sopInstanceUid: text('x00080018'),
    studyInstanceUid: text('x0020000d'),
    seriesInstanceUid: text('x0020000e'),
    modality: text('x00080060'),
    bodyPartExamined: text('x00180015'),
    studyDescription: text('x00081030'),
    seriesDescription: text('x0008103e'),
    photometricInterpretation: text('x00280004'),
    rows: number(ds.uint16('x00280010')),
    columns: number(ds.uint16('x00280011')),
    bitsStored: number(ds.uint16('x00280101')),
    transferSyntaxUid,
    numberOfFrames: number(ds.intString('x00280008')),
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as ImageMetadata;
}
