export * from './lib/types';
export { detectFormat } from './lib/format';
export { decodeImage } from './lib/decode';
export { decodeFile } from './lib/read-file';
export { toModelInput, resizeGrey, equalizeHistogram } from './lib/model-input';
export { renderPng } from './lib/render-png';
export { decodeStoredFrame, renderStoredFrame, type StoredFrame } from './lib/dicom/decode-dicom';
export { SUPPORTED_TRANSFER_SYNTAXES, findTransferSyntax, type TransferSyntax } from './lib/dicom/transfer-syntax';
