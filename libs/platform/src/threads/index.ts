export * from './thread-host';
export * from './batcher';
export * from './model-thread';
export * from './stage-timer';
export * from './byte-budget';
