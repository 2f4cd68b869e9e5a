export * from './ood-model';
