import { Injectable } from '@nestjs/common';
import type { InstanceStatusEvent } from '@xray/shared';
import { Subject } from 'rxjs';

/** Live status events received from the workers, fanned out to this gateway's SSE streams. */
@Injectable()
export class StatusBus extends Subject<InstanceStatusEvent> {}
