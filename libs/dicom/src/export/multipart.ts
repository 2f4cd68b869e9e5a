import { randomBytes } from 'node:crypto';

/** A multipart/related body (RFC 2387) of DICOM Part 10 files, as STOW-RS takes them (PS3.18 10.5). */
export interface MultipartBody {
  contentType: string;
  body: Buffer;
}

export function multipartRelated(parts: Buffer[], partType = 'application/dicom'): MultipartBody {
  const boundary = `xray-${randomBytes(16).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\n\r\n`, 'latin1'), part, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return {
    contentType: `multipart/related; type="${partType}"; boundary=${boundary}`,
    body: Buffer.concat(chunks),
  };
}
