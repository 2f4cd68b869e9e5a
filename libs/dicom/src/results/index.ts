export * from './types';
export * from './uids';
export * from './body-part-codes';
export * from './part10';
export {
  buildStudyReport,
  buildStudyReportDataset,
  studyReportUid,
  COMPREHENSIVE_SR_SOP_CLASS,
} from './structured-report';
export {
  buildSecondaryCapture,
  buildSecondaryCaptureDataset,
  secondaryCaptureUid,
  SECONDARY_CAPTURE_SOP_CLASS,
} from './secondary-capture';
