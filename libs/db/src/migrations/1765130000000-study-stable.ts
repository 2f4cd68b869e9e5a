import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The study-stable rule of DICOM studies (docs/dicom.md): when the last instance arrived, and a
 * completion generation, so that a study reopened by a late instance gets a new study.completed
 * (one event per study, type and generation) and none is sent twice.
 */
export class StudyStable1765130000000 implements MigrationInterface {
  name = 'StudyStable1765130000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE studies ADD COLUMN last_instance_at timestamptz;
      ALTER TABLE studies ADD COLUMN generation integer NOT NULL DEFAULT 0;
      ALTER TABLE studies ADD COLUMN completed_generation integer;
      ALTER TABLE webhook_events ADD COLUMN generation integer NOT NULL DEFAULT 0;
      ALTER TABLE webhook_events DROP CONSTRAINT uq_webhook_events_study_type;
      ALTER TABLE webhook_events ADD CONSTRAINT uq_webhook_events_study_type_generation UNIQUE (study_id, type, generation);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM webhook_events WHERE generation > 0;
      ALTER TABLE webhook_events DROP CONSTRAINT uq_webhook_events_study_type_generation;
      ALTER TABLE webhook_events ADD CONSTRAINT uq_webhook_events_study_type UNIQUE (study_id, type);
      ALTER TABLE webhook_events DROP COLUMN generation;
      ALTER TABLE studies DROP COLUMN completed_generation;
      ALTER TABLE studies DROP COLUMN generation;
      ALTER TABLE studies DROP COLUMN last_instance_at;
    `);
  }
}
