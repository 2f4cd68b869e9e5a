/**
 * C-STORE SCU: sends our objects to a DICOM node in one association (dcmjs-dimse) and reports
 * per object whether it was stored, refused for good, or is worth retrying.
 */
import { data } from 'dcmjs';
import { Client, constants, Dataset, requests } from 'dcmjs-dimse';
import { EXPLICIT_VR_LITTLE_ENDIAN, toArrayBuffer } from '../results';
import { classifyStatus, type DeliveryResult, type OutgoingObject } from './delivery-result';
import { validateAeTitle, type DicomNetworkDestination } from './destination';

export interface CStoreOptions {
  /** Our AE title (the gateway passes config DICOM_AE_TITLE). */
  callingAeTitle: string;
  /** Connect, association and PDU timeouts. */
  timeoutMs?: number;
}

/** A Part 10 file as the dcmjs-dimse dataset it sends (naturalized elements + transfer syntax). */
function toDimseDataset(object: OutgoingObject): Dataset {
  const file = data.DicomMessage.readFile(toArrayBuffer(object.bytes));
  const elements = data.DicomMetaDictionary.naturalizeDataset(file.dict);
  const transferSyntax = data.DicomMetaDictionary.naturalizeDataset(file.meta)['TransferSyntaxUID'];
  return new Dataset(elements, typeof transferSyntax === 'string' ? transferSyntax : EXPLICIT_VR_LITTLE_ENDIAN);
}

/** Association rejections: "permanent" (result 1) will not change by retrying, "transient" (2) may. */
function rejectionResult(rejection: { result?: number; reason?: number; source?: number }): DeliveryResult['status'] {
  return rejection.result === 1 ? 'failed' : 'retryable';
}

export async function cStore(
  destination: DicomNetworkDestination,
  objects: OutgoingObject[],
  options: CStoreOptions,
): Promise<DeliveryResult[]> {
  const callingAeTitle = validateAeTitle(options.callingAeTitle);
  if (objects.length === 0) return [];
  const timeout = options.timeoutMs ?? 30_000;
  const results = new Map<string, DeliveryResult>();
  let ending: { status: DeliveryResult['status']; reason: string } | undefined;

  const client = new Client();
  for (const object of objects) {
    const request = new requests.CStoreRequest(toDimseDataset(object));
    request.on('response', (response) => {
      const code = response.getStatus();
      const comment = response.getErrorComment?.();
      const { status, reason } = classifyStatus(code);
      results.set(object.sopInstanceUid, {
        sopInstanceUid: object.sopInstanceUid,
        status,
        code,
        ...(reason || comment ? { reason: [reason, comment].filter(Boolean).join(': ') } : {}),
      });
    });
    client.addRequest(request);
  }

  return new Promise((resolve) => {
    client.on('associationRejected', (rejection: { result?: number; reason?: number; source?: number }) => {
      ending = {
        status: rejectionResult(rejection),
        reason: `association rejected (result ${rejection.result}, source ${rejection.source}, reason ${rejection.reason})`,
      };
    });
    client.on('networkError', (error: Error) => {
      ending ??= { status: 'retryable', reason: `network error: ${error.message}` };
    });
    client.on('closed', () => {
      resolve(
        objects.map(
          (object) =>
            results.get(object.sopInstanceUid) ?? {
              sopInstanceUid: object.sopInstanceUid,
              status: ending?.status ?? 'retryable',
              reason: ending?.reason ?? 'no C-STORE response before the association closed',
            },
        ),
      );
    });
    client.send(destination.host, destination.port, callingAeTitle, destination.aeTitle, {
      connectTimeout: timeout,
      associationTimeout: timeout,
      pduTimeout: timeout,
    });
  });
}

export const DIMSE_SUCCESS = constants.Status.Success;
