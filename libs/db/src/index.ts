export * from './entities';
export * from './migrations';
export * from './data-source';
export * from './clients';
export * from './study-views';
export * from './study-progress';
export * from './instance-writes';
export * from './api-key-status';
