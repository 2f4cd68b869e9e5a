import { InitialSchema1764280000000 } from './1764280000000-initial-schema';
import { DicomExports1765110000000 } from './1765110000000-dicom-exports';
import { DicomNodes1765120000000 } from './1765120000000-dicom-nodes';
import { StudyStable1765130000000 } from './1765130000000-study-stable';
import { PredictionWarnings1765140000000 } from './1765140000000-prediction-warnings';

/** In order; never edit a released migration, add a new one. */
export const MIGRATIONS = [
  InitialSchema1764280000000,
  DicomExports1765110000000,
  DicomNodes1765120000000,
  StudyStable1765130000000,
  PredictionWarnings1765140000000,
];
