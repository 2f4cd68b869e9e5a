// Test-only helpers of @xray/model-tools (never exported from src/, imported by tests only).
export { nestedKeras2H5, nestedKeras3Archive, nestedKerasReferenceModel } from './keras-fixtures';
