/**
 * Packs ../shared/data/unifesp for bench/training/torch-finetune-reference.py (a reference
 * measurement on a GPU machine, not product code) into ONE folder, by default .devdata/:
 *   images/<file>.jpg  grey, stretched to SIZE x SIZE with the product's own resize (sharp, via dist)
 *   meta.json          {size, classes (names), files: {file: {labels, split, patientId}}}; split = the TS
 *                      trainer's groupedSplit(images, 0.2, 42) (expected 1187 train / 308 validation)
 *   keras_model.h5     the Teachable Machine backbone source (its Dense head is never reused)
 *   tfjs-check.json    pooled out_relu features from the product's tfjs import of the h5 (at SIZE)
 *                      for --check N validation images (decoded from the packed JPEGs; sha256 of
 *                      those pixels included), so the torch port can be compared (`--mode check`).
 *
 *   npm run build && node bench/training/pack-devdata.js [--size 320] [--quality 95] [--check 24] [--out .devdata]
 */
const { mkdirSync, readFileSync, writeFileSync, copyFileSync, chmodSync } = require('node:fs');
const { join, parse } = require('node:path');
const { createHash } = require('node:crypto');
const sharp = require('sharp');
const dist = join(__dirname, '..', '..', 'dist', 'libs');
const { readLabelsCsv } = require(join(dist, 'ml/src/training/dataset.js'));
const { groupedSplit } = require(join(dist, 'ml/src/training/split.js'));
const { resizeGrey } = require(join(dist, 'imaging/src/lib/model-input.js'));
const { decodeRaster } = require(join(dist, 'imaging/src/lib/raster.js'));

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const size = Number(arg('--size', 320));
const quality = Number(arg('--quality', 95));
const checkCount = Number(arg('--check', 24));
const out = arg('--out', join(__dirname, '..', '..', '.devdata'));
const shared = join(__dirname, '..', '..', '..', 'shared');
const data = join(shared, 'data', 'unifesp');
const h5 = join(shared, 'models', 'teachable-machine-mobilenetv2', 'keras_model.h5');

async function main() {
  const images = await readLabelsCsv(join(data, 'labels.csv'), 22); // 22 = the UNIFESP classes
  const split = groupedSplit(images, 0.2, 42);
  console.log(`split: ${split.train.length} train / ${split.validation.length} validation`);
  mkdirSync(join(out, 'images'), { recursive: true });
  const files = {};
  const checkPixels = [];
  for (const [name, list] of [
    ['train', split.train],
    ['validation', split.validation],
  ]) {
    for (const image of list) {
      const decoded = await decodeRaster(readFileSync(join(data, 'images', image.file))); // as the product decodes
      const resized = await resizeGrey(decoded, size, size, 'stretch');
      const jpeg = await sharp(Buffer.from(resized), { raw: { width: size, height: size, channels: 1 } })
        .jpeg({ quality })
        .toBuffer();
      const packed = `${parse(image.file).name}.jpg`;
      writeFileSync(join(out, 'images', packed), jpeg);
      files[packed] = { labels: image.labels, split: name, patientId: image.patientId, source: image.file };
      if (name === 'validation' && checkPixels.length < checkCount) {
        const pixels = (await decodeRaster(jpeg)).pixels; // what the torch script will read
        checkPixels.push({ file: packed, pixels: new Uint8Array(pixels) });
      }
    }
  }
  const classes = readFileSync(join(h5, '..', 'labels.txt'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .map((line) => line.replace(/^\d+\s+/, ''));
  writeFileSync(
    join(out, 'meta.json'),
    JSON.stringify({ size, classes, split: 'groupedSplit(images, 0.2, 42)', files }),
  );
  copyFileSync(h5, join(out, 'keras_model.h5'));
  chmodSync(join(out, 'keras_model.h5'), 0o644);
  if (checkCount > 0) await tfjsCheck(checkPixels);
  console.log(`wrote ${Object.keys(files).length} images to ${out}`);
}

/** Pooled out_relu features from the product's tfjs import of the h5, for the torch port check. */
async function tfjsCheck(items) {
  const tf = require('@tensorflow/tfjs');
  const ml = require(join(dist, 'ml/src/index.js'));
  const backend = await ml.initTfjsBackend();
  const backbone = await ml.loadTrainingBackbone(h5, {
    name: 'tm',
    layer: 'out_relu',
    normalization: 'minus1to1',
    resize: 'stretch',
    inputSize: size,
  });
  const extractor = ml.featureExtractor(backbone.model, 'out_relu');
  const features = [];
  for (const item of items) {
    const input = tf.tidy(() =>
      tf
        .tensor4d(
          Float32Array.from(item.pixels, (v) => v / 127.5 - 1),
          [1, size, size, 1],
        )
        .tile([1, 1, 1, 3]),
    );
    const output = extractor.predict(input);
    features.push(Array.from(await output.data()));
    tf.dispose([input, output]);
  }
  const sha256 = items.map((item) => createHash('sha256').update(item.pixels).digest('hex'));
  writeFileSync(
    join(out, 'tfjs-check.json'),
    JSON.stringify({ size, backend: backend.backend, files: items.map((item) => item.file), sha256, features }),
  );
  console.log(`tfjs check: ${items.length} images, backend ${backend.backend}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
