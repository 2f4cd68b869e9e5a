// Test-only helpers of @xray/ml (never exported from src/, imported by tests only).
export * from './tiny-model';
export * from './counting-source';
