/**
 * How a decoded 8-bit greyscale rendering becomes the model's input tensor.
 * Stored in the model card so that training, inference and explanation always agree.
 */
export type ResizeMode = 'stretch' | 'letterbox';

/** `minus1to1`: x / 127.5 - 1 (MobileNetV2, Keras applications); `zero1`: x / 255; `imagenet`: torch-style mean/std. */
export type Normalization = 'minus1to1' | 'zero1' | 'imagenet';

export interface PreprocessingSpec {
  width: number;
  height: number;
  /** 3 = the grey rendering replicated into RGB. */
  channels: 1 | 3;
  normalization: Normalization;
  resize: ResizeMode;
}
