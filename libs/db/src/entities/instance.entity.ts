import type { DicomFactsDto, InstanceStatus } from '@xray/shared';
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** One uploaded image of a study. */
@Entity('instances')
export class InstanceEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'study_id' }) studyId!: string;
  @Column('uuid', { name: 'client_id' }) clientId!: string;
  @Column('int') position!: number;
  @Column('text') filename!: string;
  @Column('text') status!: InstanceStatus;
  @Column('text') format!: 'dicom' | 'png' | 'jpeg';
  @Column('text', { name: 'object_key' }) objectKey!: string;
  @Column('text') sha256!: string;
  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) size!: number;
  /** DICOM facts (UIDs, modality, body part) without patient identifiers. */
  @Column('jsonb', { nullable: true }) dicom!: DicomFactsDto | null;
  @Column('text', { name: 'error_code', nullable: true }) errorCode!: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
