export * from './connection';
export * from './producer';
export * from './queue-worker';
export * from './deadline';
