export * from './labels';
export * from './confidence';
export * from './errors';
export * from './preprocessing';
export * from './queues';
export * from './api';
export * from './random';
export * from './explanations';
