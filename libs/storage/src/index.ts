export * from './object-store';
export * from './fs-store';
export * from './s3-store';
export * from './create-store';
export * from './explanation-keys';
export * from './orphan-sweep';
