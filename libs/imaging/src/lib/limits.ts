/**
 * Upper bounds that keep a hostile or broken file from exhausting memory. A 43x43 cm
 * detector at 100 µm is ~4300x4300 = 18.5 M pixels; these leave ample headroom.
 */
export const MAX_PIXELS = 100_000_000;
/** Largest inflated data set or decoded frame, in bytes. */
export const MAX_DECODED_BYTES = 512 * 1024 * 1024;
