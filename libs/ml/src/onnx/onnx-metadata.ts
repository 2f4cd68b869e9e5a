import { onnx } from 'onnx-proto';

/** The `metadata_props` of a serialised ONNX model. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}
