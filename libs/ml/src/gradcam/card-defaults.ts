/**
 * Grad-CAM++ layers for the architectures whose Keras names we know, used when a card names
 * none (Keras import, `xray explain --animate`, the ONNX export and the explain worker).
 */

/** The last concat of a DenseNet stage (`conv3_block12_concat` in DenseNet201), if the network has that stage. */
function lastConcat(names: Set<string>, stage: number): string | undefined {
  let block = 0;
  while (names.has(`conv${stage}_block${block + 1}_concat`)) block++;
  return block ? `conv${stage}_block${block}_concat` : undefined;
}

/**
 * Layers for the animation across depth: the ends of DenseNet's dense blocks 2, 3 and 4 (the
 * last concat of the conv3, conv4 and conv5 stages), or MobileNetV2's last residual add at
 * 28x28 and 14x14 and out_relu (for 224 inputs). Undefined for other networks.
 */
export function defaultAnimationLayers(layerNames: Iterable<string>): string[] | undefined {
  const names = new Set(layerNames);
  const denseNet = [3, 4, 5].map((stage) => lastConcat(names, stage));
  if (denseNet.every(Boolean)) return denseNet as string[];
  const mobileNet = ['block_5_add', 'block_12_add', 'out_relu'];
  return mobileNet.every((n) => names.has(n)) ? mobileNet : undefined;
}

/**
 * The Grad-CAM++ target for a known architecture: DenseNet201's `conv5_block30_concat`, as the
 * seed project chose (two blocks before the end: sharper than the last concat, still
 * class-specific). Undefined for other networks (the caller picks the last spatial layer).
 */
export function knownTargetLayer(layerNames: Iterable<string>): string | undefined {
  const names = new Set(layerNames);
  return lastConcat(names, 5) === 'conv5_block32_concat' && names.has('conv4_block48_concat')
    ? 'conv5_block30_concat'
    : undefined;
}

/** The card's animation layers, else the architecture's defaults, else none. */
export function animationLayersOf(
  card: { gradcam: { animationLayers?: string[] } },
  layerNames: Iterable<string>,
): string[] {
  return card.gradcam.animationLayers ?? defaultAnimationLayers(layerNames) ?? [];
}
