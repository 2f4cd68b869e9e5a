import type { DataSource } from 'typeorm';
import { AuditEntity } from '../entities/audit.entity';

export interface AuditRecord {
  clientId: string | null;
  apiKeyId: string | null;
  /** e.g. study.create, study.read, study.list, study.delete, instance.image.read */
  action: string;
  resourceId: string | null;
  correlationId: string | null;
  ip: string | null;
}

/** Appends one line to the audit trail (audit_log). */
export async function insertAuditRecord(ds: DataSource, record: AuditRecord): Promise<void> {
  await ds.getRepository(AuditEntity).insert(record);
}
