/**
 * One-off check of the Keras import: converts ../shared/models/teachable-machine-mobilenetv2
 * (Keras 2.4 HDF5, nested Sequential/Functional MobileNetV2) and measures its top-1 accuracy on
 * ../shared/data/unifesp (a hit is any of the row's labels). This third-party model was trained
 * on these images: the figure shows the weights were mapped right, not how good a model is.
 *
 *   node -r @swc-node/register bench/ml/keras-import-accuracy.ts [--limit N]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeFile, toModelInput } from '@xray/imaging';
import { createTfjsEngine } from '@xray/ml';
import { importKeras } from '@xray/model-tools';

const shared = process.env.XRAY_SHARED_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared');
const limitAt = process.argv.indexOf('--limit');
const limit = limitAt >= 0 ? Number(process.argv[limitAt + 1]) : Infinity;

async function main(): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-tm-'));
  const card = await importKeras(path.join(shared, 'models/teachable-machine-mobilenetv2/keras_model.h5'), out);
  const engine = await createTfjsEngine(out, { logger: { info: (fields) => console.error(JSON.stringify(fields)) } });
  const rows = fs.readFileSync(path.join(shared, 'data/unifesp/labels.csv'), 'utf8').trim().split('\n').slice(1);
  let hits = 0;
  let seen = 0;
  const started = Date.now();
  for (const row of rows.slice(0, limit)) {
    const [file, , target] = row.split(',');
    const image = await decodeFile(path.join(shared, 'data/unifesp/images', file));
    const [result] = await engine.classify([await toModelInput(image, card.preprocessing)]);
    if (target.split(' ').map(Number).includes(result.classIndex)) hits++;
    seen++;
    if (seen % 100 === 0)
      console.error(`${seen}/${Math.min(rows.length, limit)} accuracy so far ${((100 * hits) / seen).toFixed(1)} %`);
  }
  console.log(
    JSON.stringify({
      images: seen,
      top1Accuracy: hits / seen,
      chance: 1 / 22,
      msPerImage: (Date.now() - started) / seen,
      backend: engine.info.backend,
      threads: engine.info.threads,
    }),
  );
  await engine.dispose();
  fs.rmSync(out, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
