import type { ConfidenceBand, LabelProbability, PredictionWarning, PreprocessingSpec } from '@xray/shared';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** One classification of an instance by one model (unique per instance + model weights). */
@Entity('predictions')
@Unique('uq_predictions_instance_model', ['instanceId', 'modelSha256'])
export class PredictionEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'instance_id' }) instanceId!: string;
  @Column('text', { name: 'model_name' }) modelName!: string;
  @Column('text', { name: 'model_version' }) modelVersion!: string;
  @Column('text', { name: 'model_sha256' }) modelSha256!: string;
  @Column('text') label!: string;
  @Column('int', { name: 'class_index' }) classIndex!: number;
  @Column('double precision') confidence!: number;
  @Column('text') band!: ConfidenceBand;
  @Column('jsonb') top5!: LabelProbability[];
  @Column('jsonb') probabilities!: number[];
  @Column('jsonb') preprocessing!: PreprocessingSpec;
  @Column('jsonb', { default: () => "'[]'" }) warnings!: PredictionWarning[];
  @Column('double precision', { name: 'ood_score', nullable: true }) oodScore!: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
