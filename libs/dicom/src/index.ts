export * from './header';
export * from './part10';
export * from './sop-classes';
export * from './ingest/dicom-ingest';
export * from './listener/association-policy';
export * from './listener/presentation-contexts';
export * from './listener/listener-metrics';
export * from './listener/dicom-listener';
