import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DICOM intake: the nodes (calling AE titles) allowed to send for a client, a client's default
 * webhook URL, and the UIDs that group instances into studies and deduplicate re-sends.
 */
export class DicomNodes1765120000000 implements MigrationInterface {
  name = 'DicomNodes1765120000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clients ADD COLUMN webhook_url text;
      CREATE TABLE dicom_nodes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        ae_title text NOT NULL UNIQUE,
        host text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE studies ADD COLUMN study_instance_uid text;
      CREATE UNIQUE INDEX uq_studies_client_study_uid ON studies (client_id, study_instance_uid)
        WHERE study_instance_uid IS NOT NULL;
      ALTER TABLE instances ADD COLUMN sop_instance_uid text;
      CREATE UNIQUE INDEX uq_instances_client_sop_uid ON instances (client_id, sop_instance_uid)
        WHERE sop_instance_uid IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX uq_instances_client_sop_uid;
      ALTER TABLE instances DROP COLUMN sop_instance_uid;
      DROP INDEX uq_studies_client_study_uid;
      ALTER TABLE studies DROP COLUMN study_instance_uid;
      DROP TABLE dicom_nodes;
      ALTER TABLE clients DROP COLUMN webhook_url;
    `);
  }
}
