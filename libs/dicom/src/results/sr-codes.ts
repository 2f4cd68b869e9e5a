/** Concept names used in the body-part SR. Standard codes where DICOM has them, "99XRAY" otherwise. */
import type { Code } from './body-part-codes';

/** Our private coding scheme (PS3.16 8.2: private designators start with "99"). */
export const PRIVATE_SCHEME = '99XRAY';
export const PRIVATE_SCHEME_NAME = 'xray-bodypart result concepts';

const dcm = (value: string, meaning: string): Code => ({ value, scheme: 'DCM', meaning });
const own = (value: string, meaning: string): Code => ({ value, scheme: PRIVATE_SCHEME, meaning });

export const CODES = {
  imagingMeasurementReport: dcm('126000', 'Imaging Measurement Report'),
  languageOfContent: dcm('121049', 'Language of Content Item and Descendants'),
  englishUS: { value: 'en-US', scheme: 'RFC5646', meaning: 'English (United States)' },
  observerType: dcm('121005', 'Observer Type'),
  device: dcm('121007', 'Device'),
  deviceObserverUid: dcm('121012', 'Device Observer UID'),
  deviceObserverName: dcm('121013', 'Device Observer Name'),
  deviceObserverManufacturer: dcm('121014', 'Device Observer Manufacturer'),
  deviceObserverModelName: dcm('121015', 'Device Observer Model Name'),
  procedureReported: dcm('121058', 'Procedure reported'),
  radiographicImaging: { value: '363680008', scheme: 'SCT', meaning: 'Radiographic imaging procedure' },
  imageLibrary: dcm('111028', 'Image Library'),
  imageLibraryGroup: dcm('126200', 'Image Library Group'),
  imagingMeasurements: dcm('126010', 'Imaging Measurements'),
  measurementGroup: dcm('125007', 'Measurement Group'),
  trackingIdentifier: dcm('112039', 'Tracking Identifier'),
  trackingUniqueIdentifier: dcm('112040', 'Tracking Unique Identifier'),
  targetRegion: dcm('123014', 'Target Region'),
  sourceOfMeasurement: dcm('121112', 'Source of Measurement'),
  comment: dcm('121106', 'Comment'),
  percent: { value: '%', scheme: 'UCUM', meaning: 'Percent' },
  noUnits: { value: '{score}', scheme: 'UCUM', meaning: 'no units' },
  bodyPartExamined: own('BPE', 'Body Part Examined defined term'),
  calibratedConfidence: own('CONFIDENCE', 'Calibrated confidence'),
  confidenceBand: own('BAND', 'Confidence band'),
  topPredictions: own('TOP5', 'Five most probable body parts'),
  classProbability: own('PROBABILITY', 'Body part probability'),
  registrationWarning: own('REGWARN', 'Registration check warning'),
  outOfDistribution: own('OOD', 'Out-of-distribution input'),
  outOfDistributionScore: own('OODSCORE', 'Out-of-distribution score'),
  warning: own('WARNING', 'Processing warning'),
} as const satisfies Record<string, Code>;
