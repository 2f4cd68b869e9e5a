import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

// dcmjs ships no types; a local require keeps this test helper from declaring them for everyone.
const dcmjs: any = require('dcmjs');

/** A fresh UID under 2.25 (UUID-derived), as PS3.5 B.2 allows without an org root. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString(10)}`;
}

/**
 * Copies of a real DICOM file as the instances of one new study: new Study, Series and SOP
 * Instance UIDs (and accession number, patient ID when given), everything else, pixel data included, as in the
 * source. Written with dcmjs; returns the files' paths.
 */
export function makeStudyFiles(
  source: string,
  count: number,
  dir: string,
  options: { studyInstanceUid?: string; accessionNumber?: string; patientId?: string } = {},
): { studyInstanceUid: string; sopInstanceUids: string[]; files: string[] } {
  const bytes = readFileSync(source);
  const studyInstanceUid = options.studyInstanceUid ?? newUid();
  const seriesInstanceUid = newUid();
  const sopInstanceUids: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const message = dcmjs.data.DicomMessage.readFile(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    );
    const sop = newUid();
    const set = (dict: Record<string, any>, tag: string, vr: string, value: string) =>
      (dict[tag] = { vr, Value: [value] });
    set(message.dict, '0020000D', 'UI', studyInstanceUid);
    set(message.dict, '0020000E', 'UI', seriesInstanceUid);
    set(message.dict, '00080018', 'UI', sop);
    set(message.dict, '00200013', 'IS', String(i + 1));
    if (options.accessionNumber) set(message.dict, '00080050', 'SH', options.accessionNumber);
    if (options.patientId) set(message.dict, '00100020', 'LO', options.patientId);
    set(message.meta, '00020003', 'UI', sop);
    const file = path.join(dir, `${sop}.dcm`);
    writeFileSync(file, Buffer.from(message.write()));
    sopInstanceUids.push(sop);
    files.push(file);
  }
  return { studyInstanceUid, sopInstanceUids, files };
}
