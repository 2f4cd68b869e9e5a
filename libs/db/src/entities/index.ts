import { ApiKeyEntity } from './api-key.entity';
import { AuditEntity } from './audit.entity';
import { ClientEntity } from './client.entity';
import { InstanceEntity } from './instance.entity';
import { StudyEntity } from './study.entity';
import { WebhookAttemptEntity } from './webhook-attempt.entity';

/**
 * The tables the repositories write through TypeORM's entity API. The other tables
 * (predictions, explanations, webhook events and deliveries) are written only by the atomic
 * SQL statements in the repositories, so they have no mapping. The migrations are the schema.
 */
export const ENTITIES = [ClientEntity, ApiKeyEntity, StudyEntity, InstanceEntity, WebhookAttemptEntity, AuditEntity];

export { ApiKeyEntity, AuditEntity, ClientEntity, InstanceEntity, StudyEntity, WebhookAttemptEntity };
export type { ApiKeyKind } from './api-key.entity';
