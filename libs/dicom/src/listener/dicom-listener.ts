import * as net from 'node:net';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import type { Logger } from 'pino';
import type { StoreOutcome } from '../store-outcome';
import { fileMetaHeader } from '../part10';
import { DicomStatus } from '../sop-classes';
import { decideAssociation, REJECT_CODES, type RegisteredNode } from './association-policy';
import type { ListenerMetrics } from './listener-metrics';
import { negotiateContext } from './presentation-contexts';

const { Scp } = dimse;
// dcmjs-dimse logs every PDU at info level to the console; our logger says what matters.
dimse.log.setLevel('silent');
const { CEchoResponse, CStoreResponse } = dimse.responses;

export interface ListenerOptions {
  port: number;
  host?: string;
  aeTitle: string;
  maxAssociations: number;
  /** From TCP connect until the A-ASSOCIATE-RQ arrives. */
  associationTimeoutMs: number;
  /** Longest silence between PDUs of an open association. */
  idleTimeoutMs: number;
  /** Largest data set accepted (MAX_UPLOAD_BYTES); a larger one is dropped as it arrives. */
  maxInstanceBytes: number;
}

export interface ListenerDeps {
  findNode(callingAeTitle: string): Promise<RegisteredNode | undefined>;
  storeInstance(clientId: string, part10: Buffer, sourceAeTitle: string): Promise<StoreOutcome>;
  metrics: ListenerMetrics;
  logger: Logger;
}

/** A C-STORE data set as received: its bytes in the negotiated transfer syntax, never parsed by dcmjs. */
interface ReceivedDataSet {
  bytes: Buffer;
  transferSyntaxUid: string;
  /** Over maxInstanceBytes: its bytes were dropped while it arrived. */
  tooLarge: boolean;
}

/** Error Comment (0000,0902) is an LO: 64 characters at most. */
function errorComment(reason: string): string {
  return reason.length <= 64 ? reason : `${reason.slice(0, 61)}...`;
}

/**
 * A DIMSE C-ECHO / C-STORE SCP on dcmjs-dimse. Each instance is kept as the exact bytes the
 * sender wrote (dcmjs-dimse would otherwise parse and re-encode them), prefixed with a File
 * Meta Information group, and handed to the ingest.
 */
export class DicomListener {
  private server: net.Server | undefined;
  private active = 0;

  constructor(
    private readonly options: ListenerOptions,
    private readonly deps: ListenerDeps,
  ) {}

  get ready(): boolean {
    return this.server?.listening ?? false;
  }

  get activeAssociations(): number {
    return this.active;
  }

  async start(): Promise<void> {
    const ScpClass = this.scpClass();
    const scpOptions = {
      associationTimeout: this.options.associationTimeoutMs,
      pduTimeout: this.options.idleTimeoutMs,
      connectTimeout: this.options.idleTimeoutMs,
    };
    // Our own TCP server rather than dcmjs-dimse's Server: that one binds every interface and never
    // starts the association timer of accepted sockets (it is keyed on a client-side 'connect' event).
    const server = net.createServer((socket) => {
      const scp = new ScpClass(socket, scpOptions) as any;
      scp.connected = true;
      scp.connectedTime = Date.now();
      scp.on('networkError', (error: Error) => {
        this.deps.logger.debug({ err: error.message }, 'DICOM network error');
        socket.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Stops accepting new associations; those in flight finish or time out. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private scpClass(): typeof Scp {
    // dcmjs-dimse constructs one Scp per connection from the class: the listener's state comes in by closure.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const listener = this;
    const { deps, options } = this;

    return class XrayScp extends Scp {
      private clientId: string | undefined;
      private callingAeTitle = '';
      private counted = false;

      constructor(socket: any, opts: any) {
        super(socket, opts);
        this.on('close', () => this.release());
      }

      private release(): void {
        if (!this.counted) return;
        this.counted = false;
        listener.active--;
        deps.metrics.closed();
      }

      associationRequested(association: any): void {
        this.decide(association).catch((error: Error) => {
          deps.logger.error({ err: error.message }, 'association decision failed');
          this.sendAssociationReject(2, 1, 1);
        });
      }

      private async decide(association: any): Promise<void> {
        const callingAeTitle = String(association.getCallingAeTitle()).trim();
        const calledAeTitle = String(association.getCalledAeTitle()).trim();
        const peerAddress = (this as any).socket?.remoteAddress as string | undefined;
        const node = await deps.findNode(callingAeTitle);
        const decision = decideAssociation(
          { callingAeTitle, calledAeTitle, peerAddress },
          {
            ourAeTitle: options.aeTitle,
            node,
            activeAssociations: listener.active,
            maxAssociations: options.maxAssociations,
          },
        );
        if (!decision.accept) {
          const codes = REJECT_CODES[decision.cause];
          deps.metrics.rejected(decision.cause);
          deps.logger.warn(
            { callingAeTitle, calledAeTitle, peerAddress, cause: decision.cause },
            'association rejected',
          );
          this.sendAssociationReject(codes.result, codes.source, codes.reason);
          return;
        }
        listener.active++;
        this.counted = true;
        deps.metrics.accepted();
        this.clientId = decision.clientId;
        this.callingAeTitle = callingAeTitle;
        for (const proposed of association.getPresentationContexts()) {
          const context = association.getPresentationContext(proposed.id);
          const answer = negotiateContext(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids());
          context.setResult(answer.result, answer.transferSyntaxUid);
        }
        deps.logger.info({ callingAeTitle, peerAddress }, 'association accepted');
        this.sendAssociationAccept();
      }

      associationReleaseRequested(): void {
        this.sendAssociationReleaseResponse();
        this.release();
      }

      abort(): void {
        this.release();
      }

      cEchoRequest(request: any, callback: (response: any) => void): void {
        const response = CEchoResponse.fromRequest(request);
        response.setStatus(DicomStatus.Success);
        callback(response);
      }

      /**
       * Collects the data set's bytes exactly as they arrive over the wire, up to maxInstanceBytes:
       * past that it keeps reading (the sender is still sending its PDUs) but holds nothing.
       */
      createStoreWritableStream(): Writable {
        let chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            if (size > options.maxInstanceBytes) {
              tooLarge = true;
              chunks = [];
            } else chunks.push(chunk);
            done();
          },
        });
        (sink as any).toBuffer = () => Buffer.concat(chunks);
        (sink as any).tooLarge = () => tooLarge;
        return sink;
      }

      createDatasetFromStoreWritableStream(writable: Writable, context: any, callback: (dataset: any) => void): void {
        const received: ReceivedDataSet = {
          bytes: (writable as any).toBuffer(),
          transferSyntaxUid: context.getAcceptedTransferSyntaxUid(),
          tooLarge: (writable as any).tooLarge(),
        };
        callback(received);
      }

      cStoreRequest(request: any, callback: (response: any) => void): void {
        const response = CStoreResponse.fromRequest(request);
        this.store(request)
          .then((outcome) => {
            deps.metrics.instance(outcome.status);
            if (outcome.status === 'failed') {
              response.setStatus(outcome.code);
              response.setErrorComment(errorComment(outcome.reason));
            } else response.setStatus(DicomStatus.Success);
          })
          .catch((error: Error) => {
            deps.metrics.instance('failed');
            deps.logger.error({ err: error.message }, 'C-STORE failed');
            response.setStatus(DicomStatus.OutOfResources);
            response.setErrorComment('the instance could not be stored');
          })
          .finally(() => callback(response));
      }

      private async store(request: any): Promise<StoreOutcome> {
        const received = request.getDataset() as ReceivedDataSet;
        // PS3.4 B.2.3: 0xA7xx "Refused: Out of Resources" is the status for a data set the SCP cannot hold.
        if (received.tooLarge)
          return {
            status: 'failed',
            code: DicomStatus.OutOfResources,
            reason: `the instance is larger than ${options.maxInstanceBytes} bytes`,
          };
        const meta = fileMetaHeader({
          sopClassUid: request.getAffectedSopClassUid(),
          sopInstanceUid: request.getAffectedSopInstanceUid(),
          transferSyntaxUid: received.transferSyntaxUid,
          sourceAeTitle: this.callingAeTitle,
        });
        return deps.storeInstance(this.clientId!, Buffer.concat([meta, received.bytes]), this.callingAeTitle);
      }
    } as unknown as typeof Scp;
  }
}
