import * as dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { asXrayError, corrupt } from '../errors';
import { hasDicmPrefix } from '../format';
import { inflateBounded } from './bounded-inflate';
import { guessSyntaxAt } from './headerless';

export interface ParsedDicom {
  dataSet: DataSet;
  transferSyntaxUid: string;
}

/** Deflated data sets are inflated step by step, bounded by what their header can need: a deflate bomb fails early. */
function inflate(byteArray: Uint8Array, position: number): Uint8Array {
  const inflated = inflateBounded(byteArray.subarray(position));
  const whole = new Uint8Array(position + inflated.length);
  whole.set(byteArray.subarray(0, position), 0);
  whole.set(inflated, position);
  return whole;
}

function parse(bytes: Uint8Array, transferSyntaxUid?: string): DataSet {
  try {
    return dicomParser.parseDicom(bytes, {
      TransferSyntaxUID: transferSyntaxUid,
      inflater: inflate as unknown as (arr: Uint8Array, position: number) => void,
    });
  } catch (error) {
    throw asXrayError(error, 'the DICOM data set cannot be parsed');
  }
}

/** The meta header's end, and its transfer syntax when it has one. */
function readMetaHeader(bytes: Uint8Array): { end: number; transferSyntaxUid?: string } {
  try {
    const meta = dicomParser.readPart10Header(bytes) as DataSet & { position: number };
    // Trust File Meta Information Group Length (0002,0000) when present: without a transfer
    // syntax the reader cannot tell where group 0002 ends if odd groups follow it.
    const groupLength = meta.uint32('x00020000');
    const lengthElement = meta.elements.x00020000;
    const end =
      groupLength !== undefined && lengthElement && lengthElement.dataOffset + 4 + groupLength <= bytes.length
        ? lengthElement.dataOffset + 4 + groupLength
        : meta.position;
    return { end, transferSyntaxUid: meta.string('x00020010')?.trim() || undefined };
  } catch (error) {
    throw asXrayError(error, 'the DICOM file meta header cannot be parsed');
  }
}

/**
 * Parses DICOM Part 10 (preamble optional) or a bare data set (no meta header), inflating
 * deflated data sets. The returned data set's byte array is the one its offsets refer to.
 */
export function parseDicomBytes(input: Uint8Array): ParsedDicom {
  const prefix = hasDicmPrefix(input);
  let bytes = input;
  if (prefix === 'no-preamble') {
    // Rare: "DICM" at offset 0. dicom-parser wants the preamble, so give it one (one copy).
    bytes = new Uint8Array(128 + input.length);
    bytes.set(input, 128);
  }
  if (prefix) {
    const meta = readMetaHeader(bytes);
    if (meta.transferSyntaxUid) {
      return { dataSet: parse(bytes), transferSyntaxUid: meta.transferSyntaxUid };
    }
    // Meta header without (0002,0010): judge the encoding from the data set itself.
    const guessed = guessSyntaxAt(bytes, meta.end, true);
    if (!guessed) throw corrupt('the meta header has no transfer syntax and the data set is unreadable');
    return { dataSet: parse(bytes.subarray(meta.end), guessed), transferSyntaxUid: guessed };
  }
  const guessed = guessSyntaxAt(bytes, 0);
  if (!guessed) throw corrupt('no DICOM data set found');
  return { dataSet: parse(bytes, guessed), transferSyntaxUid: guessed };
}
