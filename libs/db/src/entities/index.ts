import { ApiKeyEntity } from './api-key.entity';
import { AuditEntity } from './audit.entity';
import { ClientEntity } from './client.entity';
import { ExplanationEntity } from './explanation.entity';
import { InstanceEntity } from './instance.entity';
import { PredictionEntity } from './prediction.entity';
import { StudyEntity } from './study.entity';
import { WebhookAttemptEntity, WebhookDeliveryEntity, WebhookEventEntity } from './webhook.entity';

export * from './api-key.entity';
export * from './audit.entity';
export * from './client.entity';
export * from './explanation.entity';
export * from './instance.entity';
export * from './prediction.entity';
export * from './study.entity';
export * from './webhook.entity';

export const ENTITIES = [
  ClientEntity,
  ApiKeyEntity,
  StudyEntity,
  InstanceEntity,
  PredictionEntity,
  ExplanationEntity,
  WebhookEventEntity,
  WebhookDeliveryEntity,
  WebhookAttemptEntity,
  AuditEntity,
];
