import type { DicomHeader } from './header';

/** What became of one received instance: the DIMSE status and the STOW-RS response are built from it. */
export type StoreOutcome =
  | { status: 'stored' | 'duplicate'; studyId: string; instanceId: string; header: DicomHeader }
  | { status: 'failed'; code: number; reason: string; header?: DicomHeader };
