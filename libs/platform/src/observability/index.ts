export * from './paths';
export * from './metrics';
export * from './health';
export * from './heartbeat';
export * from './observability.module';
export * from './queue-dashboard.module';
export * from './prometheus-text';
