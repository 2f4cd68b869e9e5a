export * from './delivery-result';
export * from './destination';
export * from './cstore-client';
export * from './stow-client';
export * from './multipart';
