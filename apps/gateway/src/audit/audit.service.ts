import { Inject, Injectable } from '@nestjs/common';
import { DATA_SOURCE, LOGGER, currentCorrelationId, type Logger } from '@xray/platform';
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
      await this.ds.query(
        'INSERT INTO audit_log (client_id, api_key_id, action, resource_id, correlation_id, ip) VALUES ($1, $2, $3, $4, $5, $6)',
        [principal.clientId, principal.apiKeyId, action, resourceId, currentCorrelationId() ?? null, ip ?? null],
      );
    } catch (error) {
      // The audit trail must not fail the request it describes; the log keeps the gap visible.
      this.logger.error({ err: error, action, resourceId }, 'audit record failed');
    }
  }
}
