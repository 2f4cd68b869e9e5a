import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The Grad-CAM++ explanation of one prediction (unique per prediction). */
@Entity('explanations')
export class ExplanationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'prediction_id', unique: true }) predictionId!: string;
  @Column('uuid', { name: 'instance_id' }) instanceId!: string;
  @Column('text') status!: 'done' | 'failed';
  @Column('text', { nullable: true }) layer!: string | null;
  @Column('text', { name: 'heatmap_key', nullable: true }) heatmapKey!: string | null;
  @Column('text', { name: 'overlay_key', nullable: true }) overlayKey!: string | null;
  @Column('text', { name: 'error_code', nullable: true }) errorCode!: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
