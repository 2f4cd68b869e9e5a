import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DICOM export (issue 15): per-client destinations, the DICOM objects made for each study (SR and
 * SC, their bytes cached in object storage) and one delivery per object and destination.
 */
export class DicomExports1765110000000 implements MigrationInterface {
  name = 'DicomExports1765110000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dicom_destinations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        transport text NOT NULL CHECK (transport IN ('dimse', 'stow')),
        ae_title text,
        host text,
        port int,
        url text,
        headers jsonb NOT NULL DEFAULT '{}',
        object_kinds text[] NOT NULL CHECK (object_kinds <@ ARRAY['sr', 'sc'] AND cardinality(object_kinds) > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        CHECK ((transport = 'dimse' AND ae_title IS NOT NULL AND host IS NOT NULL AND port IS NOT NULL)
            OR (transport = 'stow' AND url IS NOT NULL))
      );
      CREATE INDEX ix_dicom_destinations_client ON dicom_destinations (client_id) WHERE removed_at IS NULL;
      CREATE TABLE dicom_objects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        study_id uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        instance_id uuid REFERENCES instances(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('sr', 'sc')),
        sop_instance_uid text NOT NULL,
        object_key text,
        built_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_dicom_objects_study_uid UNIQUE (study_id, sop_instance_uid)
      );
      CREATE INDEX ix_dicom_objects_client_uid ON dicom_objects (client_id, sop_instance_uid);
      CREATE TABLE dicom_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        object_id uuid NOT NULL REFERENCES dicom_objects(id) ON DELETE CASCADE,
        destination_id uuid NOT NULL REFERENCES dicom_destinations(id) ON DELETE CASCADE,
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        study_id uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_dicom_deliveries_object_destination UNIQUE (object_id, destination_id)
      );
      CREATE INDEX ix_dicom_deliveries_study_destination ON dicom_deliveries (study_id, destination_id);
      CREATE INDEX ix_dicom_deliveries_client_created ON dicom_deliveries (client_id, created_at DESC, id DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dicom_deliveries, dicom_objects, dicom_destinations;');
  }
}
