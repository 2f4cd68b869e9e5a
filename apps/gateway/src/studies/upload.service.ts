import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { ImageFormat } from '@xray/imaging';
import { CONFIG, OBJECT_STORE } from '@xray/pipeline';
import type { AppConfig } from '@xray/platform';
import { clientKey, type ObjectStore } from '@xray/storage';
import busboy from 'busboy';
import type { Request } from 'express';
import { ApiError, invalid } from '../errors/api-error';
import { FormatSniffer } from './format-sniffer';

export interface ReceivedFile {
  instanceId: string;
  position: number;
  filename: string;
  objectKey: string;
  format: ImageFormat;
  sha256: string;
  size: number;
}

export interface ReceivedUpload {
  files: ReceivedFile[];
  fields: Record<string, string>;
}

const FILE_FIELDS = new Set(['files', 'file']);

/**
 * Streams a multipart study upload straight into object storage: each file is hashed and
 * measured on the way, never held whole in memory. Any problem (size, type, a broken
 * connection) removes what was already stored, so a rejected upload leaves nothing behind.
 */
@Injectable()
export class UploadService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  receive(req: Request, clientId: string, studyId: string): Promise<ReceivedUpload> {
    const { maxUploadBytes, maxFilesPerStudy } = this.config;
    return new Promise((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: req.headers,
          // File names are UTF-8 on the wire (browsers, curl, fetch); busboy's default reads them as latin1.
          defParamCharset: 'utf8',
          limits: { fileSize: maxUploadBytes, files: maxFilesPerStudy, fields: 20, fieldSize: 4096 },
        });
      } catch {
        reject(
          new ApiError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'Send the study as multipart/form-data with one or more `files`.',
          ),
        );
        return;
      }
      const files: ReceivedFile[] = [];
      const fields: Record<string, string> = {};
      const active = new Set<FormatSniffer>();
      const stores: Array<Promise<void>> = [];
      let failure: Error | undefined;
      let finished = false;

      const settle = async () => {
        if (finished) return;
        finished = true;
        await Promise.all(stores);
        if (!failure && files.length === 0) failure = invalid('The upload has no `files`.');
        if (failure) {
          await Promise.allSettled(files.map((f) => this.store.delete(f.objectKey)));
          reject(failure);
        } else resolve({ files, fields });
      };
      const fail = (error: Error) => {
        if (failure) return;
        failure = error;
        req.unpipe(parser);
        req.resume(); // drain the rest so the client reads our answer
        for (const sniffer of active) sniffer.destroy(error);
        void settle();
      };

      parser.on('file', (name, stream, info) => {
        if (failure || !FILE_FIELDS.has(name)) {
          stream.resume();
          if (!failure) fail(invalid(`Unexpected file field "${name}": send images as \`files\`.`));
          return;
        }
        const instanceId = randomUUID();
        const file: ReceivedFile = {
          instanceId,
          position: files.length,
          filename: safeFilename(info.filename, files.length),
          objectKey: clientKey(clientId, 'studies', studyId, instanceId, 'original'),
          format: 'png',
          sha256: '',
          size: 0,
        };
        files.push(file);
        const sniffer = new FormatSniffer();
        active.add(sniffer);
        stream.on('limit', () =>
          sniffer.destroy(
            new ApiError(413, 'PAYLOAD_TOO_LARGE', `A file exceeds the limit of ${maxUploadBytes} bytes.`),
          ),
        );
        stream.on('error', (error: Error) => sniffer.destroy(error));
        // Listen at once: the store may attach its own listeners only after an await.
        sniffer.on('error', fail);
        stores.push(
          this.store.put(file.objectKey, stream.pipe(sniffer)).then(
            (stored) => {
              active.delete(sniffer);
              Object.assign(file, { sha256: stored.sha256, size: stored.size, format: sniffer.format! });
            },
            (error: Error) => {
              active.delete(sniffer);
              fail(error);
            },
          ),
        );
      });
      parser.on('field', (name, value, info) => {
        if (info.valueTruncated) return fail(invalid(`Field "${name}" is too long.`));
        fields[name] = value;
      });
      parser.on('filesLimit', () =>
        fail(new ApiError(413, 'PAYLOAD_TOO_LARGE', `A study may have at most ${maxFilesPerStudy} files.`)),
      );
      parser.on('error', (error: Error) => fail(invalid(`Malformed multipart body: ${error.message}`)));
      parser.on('close', () => void settle());
      req.on('error', (error) => fail(error));
      req.pipe(parser);
    });
  }
}

/** The client's file name without directories or control characters (it is only displayed). */
function safeFilename(name: string | undefined, position: number): string {
  const base = [...path.basename((name ?? '').replace(/\\/g, '/'))]
    .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)
    .join('')
    .slice(0, 255);
  return base || `file-${position + 1}`;
}
