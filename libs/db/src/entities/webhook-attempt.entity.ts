import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** One HTTP attempt of a webhook delivery. */
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
