import { Inject, Injectable } from '@nestjs/common';
import { insertAuditRecord } from '@xray/db';
import { DATA_SOURCE, LOGGER } from '@xray/pipeline';
import { currentCorrelationId, type Logger } from '@xray/platform';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal';

/** Who submitted, read or deleted what, when (audit_log table). */
@Injectable()
export class AuditService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record(principal: Principal, action: string, resourceId: string | null, ip?: string): Promise<void> {
    try {
      await insertAuditRecord(this.ds, {
        clientId: principal.clientId,
        apiKeyId: principal.apiKeyId,
        action,
        resourceId,
        correlationId: currentCorrelationId() ?? null,
        ip: ip ?? null,
      });
    } catch (error) {
      // The audit trail must not fail the request it describes; the log keeps the gap visible.
      this.logger.error({ err: error, action, resourceId }, 'audit record failed');
    }
  }
}
