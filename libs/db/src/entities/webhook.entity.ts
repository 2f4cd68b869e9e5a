import type { WebhookEvent, WebhookEventType } from '@xray/shared';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/** A study event (unique per study + type, so a re-run job never makes a second one). */
@Entity('webhook_events')
@Unique('uq_webhook_events_study_type', ['studyId', 'type'])
export class WebhookEventEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'client_id' }) clientId!: string;
  @Column('uuid', { name: 'study_id' }) studyId!: string;
  @Column('text') type!: WebhookEventType;
  /** The exact envelope sent on every attempt. */
  @Column('jsonb') payload!: WebhookEvent;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** Sending one event to the study's callback URL (one per event). */
@Entity('webhook_deliveries')
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'event_id', unique: true }) eventId!: string;
  @Column('uuid', { name: 'client_id' }) clientId!: string;
  @Column('text') url!: string;
  @Column('text') status!: DeliveryStatus;
  @Column('int', { default: 0 }) attempts!: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** One HTTP attempt of a delivery. */
@Entity('webhook_attempts')
@Unique('uq_webhook_attempts_delivery_attempt', ['deliveryId', 'attempt'])
export class WebhookAttemptEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'delivery_id' }) deliveryId!: string;
  @Column('int') attempt!: number;
  @Column('int', { name: 'status_code', nullable: true }) statusCode!: number | null;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('int', { name: 'duration_ms' }) durationMs!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
