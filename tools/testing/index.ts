export * from './shared-data';
export * from './resources';
export * from './images';
export * from './webhook-receiver';
export * from './system';
export * from './built';
export * from './dicom-tools';
export * from './dicom-study';
