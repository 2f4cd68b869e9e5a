export * from './tokens';
export * from './infra.module';
export * from './worker-app';
