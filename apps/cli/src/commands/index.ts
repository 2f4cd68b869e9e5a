import type { Command } from 'commander';
import { register as inspect } from './inspect';
import { register as importKeras } from './import-keras';
import { register as classify } from './classify';
import { register as explain } from './explain';
import { register as apikey } from './apikey';
import { register as destination } from './destination';
import { register as submit } from './submit';
import { register as migrate } from './migrate';
import { register as train } from './train';
import { register as evaluate } from './evaluate';
import { register as exportOnnx } from './export-onnx';
import { register as dicomNode } from './dicom-node';
import { register as client } from './client';
import { register as fitOod } from './fit-ood';

export const COMMANDS: Array<(program: Command) => void> = [
  inspect,
  importKeras,
  classify,
  explain,
  apikey,
  destination,
  submit,
  migrate,
  train,
  evaluate,
  exportOnnx,
  dicomNode,
  client,
  fitOod,
];
