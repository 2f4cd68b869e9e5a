export * from './types';
export * from './uids';
export * from './body-part-codes';
export * from './part10';
export * from './source-attributes';
export {
  buildStudyReport,
  buildStudyReportDataset,
  studyReportUid,
  studyReportUidOf,
  COMPREHENSIVE_SR_SOP_CLASS,
} from './structured-report';
export {
  buildSecondaryCapture,
  buildSecondaryCaptureDataset,
  secondaryCaptureUid,
  secondaryCaptureUidOf,
  SECONDARY_CAPTURE_SOP_CLASS,
} from './secondary-capture';
