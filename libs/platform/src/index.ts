export * from './config';
export * from './logging/logger';
export * from './queues';
export * from './lifecycle/shutdown';
export * from './observability';
export * from './events/status-events';
export * from './threads';
