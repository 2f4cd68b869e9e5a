import { readFile } from 'node:fs/promises';
import { XrayError } from '@xray/shared';

/** One labelled image: `labels` holds one or more class indices (multi-label rows). */
export interface LabelledImage {
  file: string;
  labels: number[];
  patientId: string;
}

/**
 * Parses a UNIFESP-style labels CSV: a header with at least `file`, `Target` (class indices
 * separated by spaces) and `PatientID` (optional: each image is then its own patient).
 */
export function parseLabelsCsv(text: string, numClasses: number): LabelledImage[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length < 2) throw new XrayError('VALIDATION_FAILED', 'The labels CSV has no data rows.');
  const header = splitCsvLine(lines[0]);
  const fileColumn = header.indexOf('file');
  const targetColumn = header.indexOf('Target');
  const patientColumn = header.indexOf('PatientID');
  if (fileColumn < 0 || targetColumn < 0) {
    throw new XrayError('VALIDATION_FAILED', 'The labels CSV needs the columns `file` and `Target`.');
  }
  return lines.slice(1).map((line, index) => {
    const cells = splitCsvLine(line);
    const labels = (cells[targetColumn] ?? '').trim().split(/\s+/).map(Number);
    if (labels.length === 0 || labels.some((label) => !Number.isInteger(label) || label < 0 || label >= numClasses)) {
      throw new XrayError(
        'VALIDATION_FAILED',
        `labels CSV line ${index + 2}: Target must be class indices 0..${numClasses - 1}.`,
      );
    }
    const file = cells[fileColumn]?.trim();
    if (!file) throw new XrayError('VALIDATION_FAILED', `labels CSV line ${index + 2}: empty file name.`);
    const patientId =
      patientColumn >= 0 && cells[patientColumn]?.trim() ? cells[patientColumn].trim() : `image:${file}`;
    return { file, labels: [...new Set(labels)], patientId };
  });
}

export async function readLabelsCsv(path: string, numClasses: number): Promise<LabelledImage[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new XrayError('VALIDATION_FAILED', `Cannot read the labels CSV ${path}.`, { cause: error });
  }
  return parseLabelsCsv(text, numClasses);
}

/** Minimal CSV cell splitter with double-quote support (no embedded newlines). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else cell += char;
  }
  cells.push(cell);
  return cells;
}

/** Images per class (a multi-label image counts for each of its labels). */
export function classCounts(images: LabelledImage[], numClasses: number): number[] {
  return Array.from({ length: numClasses }, (_, k) => images.filter((image) => image.labels.includes(k)).length);
}
