import { Counter, Gauge, type Registry } from 'prom-client';
import type { RejectCause } from './association-policy';

export type InstanceOutcome = 'stored' | 'duplicate' | 'failed';

/** The listener's Prometheus metrics, registered in the app's registry. */
export class ListenerMetrics {
  private readonly associations: Counter<'result'>;
  private readonly rejects: Counter<'reason'>;
  private readonly active: Gauge;
  private readonly instances: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.associations = new Counter({
      name: 'xray_dicom_associations_total',
      help: 'DICOM associations requested, by result (accepted, rejected).',
      labelNames: ['result'],
      registers,
    });
    this.rejects = new Counter({
      name: 'xray_dicom_association_rejects_total',
      help: 'Associations rejected, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.active = new Gauge({ name: 'xray_dicom_active_associations', help: 'Associations open now.', registers });
    this.instances = new Counter({
      name: 'xray_dicom_instances_received_total',
      help: 'C-STORE instances received, by outcome (stored, duplicate, failed).',
      labelNames: ['outcome'],
      registers,
    });
  }

  accepted(): void {
    this.associations.inc({ result: 'accepted' });
    this.active.inc();
  }
  rejected(cause: RejectCause): void {
    this.associations.inc({ result: 'rejected' });
    this.rejects.inc({ reason: cause });
  }
  closed(): void {
    this.active.dec();
  }
  instance(outcome: InstanceOutcome): void {
    this.instances.inc({ outcome });
  }
}
