/**
 * The primitive operations a Keras layer becomes in the ONNX graph, recorded in forward order
 * (the "tape") so that the Grad-CAM++ graph can write out their backward pass.
 */

/** A tensor in the graph; `shape` excludes the batch: [C, H, W] (NCHW) or [features]. */
export interface TensorRef {
  name: string;
  shape: number[];
}

/** Spatial padding in TF's convention, resolved to explicit amounts. */
export interface Pads2d {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export interface ConvOp {
  kind: 'conv';
  layer: string;
  x: TensorRef;
  y: TensorRef;
  /** Initializer name of the ONNX weight [Cout, Cin / group, kh, kw]. */
  weight: string;
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  group: number;
  pads: Pads2d;
}

export interface BatchNormOp {
  kind: 'batchnorm';
  layer: string;
  x: TensorRef;
  y: TensorRef;
  /** Per-channel gamma / sqrt(variance + epsilon): the eval-mode input gradient scale. */
  scale: Float32Array;
}

export interface ReluOp {
  kind: 'relu';
  layer: string;
  x: TensorRef;
  y: TensorRef;
  /** ReLU6 and friends: the output is clipped at this value. */
  max?: number;
}

export interface PadOp {
  kind: 'pad';
  layer: string;
  x: TensorRef;
  y: TensorRef;
  pads: Pads2d;
}

export interface PoolOp {
  kind: 'maxpool' | 'avgpool';
  layer: string;
  x: TensorRef;
  y: TensorRef;
  kernel: [number, number];
  strides: [number, number];
  pads: Pads2d;
}

export interface GlobalPoolOp {
  kind: 'gap';
  layer: string;
  x: TensorRef;
  y: TensorRef;
}

export interface ConcatOp {
  kind: 'concat';
  layer: string;
  xs: TensorRef[];
  y: TensorRef;
  /** Axis in the batched ONNX tensor. */
  axis: number;
}

export interface AddOp {
  kind: 'add';
  layer: string;
  xs: TensorRef[];
  y: TensorRef;
}

export interface DenseOp {
  kind: 'dense';
  layer: string;
  x: TensorRef;
  y: TensorRef;
  /** Initializer name of the kernel [in, out]. */
  weight: string;
}

export interface SoftmaxOp {
  kind: 'softmax';
  layer: string;
  x: TensorRef;
  y: TensorRef;
}

/** Flatten of an NCHW tensor in Keras (NHWC) element order. */
export interface FlattenOp {
  kind: 'flatten';
  layer: string;
  x: TensorRef;
  y: TensorRef;
}

export type Op =
  ConvOp | BatchNormOp | ReluOp | PadOp | PoolOp | GlobalPoolOp | ConcatOp | AddOp | DenseOp | SoftmaxOp | FlattenOp;

export function opInputs(op: Op): TensorRef[] {
  return 'xs' in op ? op.xs : [op.x];
}

/** TF's 'same' padding: output = ceil(in / stride), the odd pixel goes after. */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function onnxPads(p: Pads2d): number[] {
  return [p.top, p.left, p.bottom, p.right];
}
