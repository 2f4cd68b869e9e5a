export * from './results';
export * from './export';
