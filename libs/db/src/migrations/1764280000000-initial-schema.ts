import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The whole schema of API v1. Unique keys make every job's writes idempotent. */
export class InitialSchema1764280000000 implements MigrationInterface {
  name = 'InitialSchema1764280000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE clients (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        webhook_secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('client', 'admin')),
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      );
      CREATE TABLE studies (
        id uuid PRIMARY KEY,
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        status text NOT NULL,
        priority text NOT NULL CHECK (priority IN ('routine', 'stat')),
        accession_number text,
        callback_url text,
        idempotency_key text,
        correlation_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX uq_studies_client_idempotency ON studies (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX ix_studies_client_created ON studies (client_id, created_at DESC, id DESC);
      CREATE INDEX ix_studies_client_accession ON studies (client_id, accession_number);
      CREATE TABLE instances (
        id uuid PRIMARY KEY,
        study_id uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        position int NOT NULL,
        filename text NOT NULL,
        status text NOT NULL,
        format text NOT NULL,
        object_key text NOT NULL,
        sha256 text NOT NULL,
        size bigint NOT NULL,
        dicom jsonb,
        error_code text,
        error_message text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (study_id, position)
      );
      CREATE TABLE predictions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        model_name text NOT NULL,
        model_version text NOT NULL,
        model_sha256 text NOT NULL,
        label text NOT NULL,
        class_index int NOT NULL,
        confidence double precision NOT NULL,
        band text NOT NULL,
        top5 jsonb NOT NULL,
        probabilities jsonb NOT NULL,
        preprocessing jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_predictions_instance_model UNIQUE (instance_id, model_sha256)
      );
      CREATE INDEX ix_predictions_label ON predictions (label);
      CREATE TABLE explanations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        prediction_id uuid NOT NULL UNIQUE REFERENCES predictions(id) ON DELETE CASCADE,
        instance_id uuid NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        status text NOT NULL,
        layer text,
        heatmap_key text,
        overlay_key text,
        error_code text,
        error_message text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        study_id uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_webhook_events_study_type UNIQUE (study_id, type)
      );
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id uuid NOT NULL UNIQUE REFERENCES webhook_events(id) ON DELETE CASCADE,
        client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        url text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ix_webhook_deliveries_client_status ON webhook_deliveries (client_id, status, created_at DESC);
      CREATE TABLE webhook_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempt int NOT NULL,
        status_code int,
        error text,
        duration_ms int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_webhook_attempts_delivery_attempt UNIQUE (delivery_id, attempt)
      );
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        client_id uuid,
        api_key_id uuid,
        action text NOT NULL,
        resource_id text,
        correlation_id text,
        ip text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ix_audit_log_client_created ON audit_log (client_id, created_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE audit_log, webhook_attempts, webhook_deliveries, webhook_events, explanations,
        predictions, instances, studies, api_keys, clients;
    `);
  }
}
