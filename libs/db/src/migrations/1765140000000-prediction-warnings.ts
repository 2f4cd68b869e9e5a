import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Out-of-distribution score and warnings of a prediction (API v1 `prediction.warnings`, `prediction.oodScore`). */
export class PredictionWarnings1765140000000 implements MigrationInterface {
  name = 'PredictionWarnings1765140000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE predictions
        ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN ood_score double precision NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE predictions DROP COLUMN warnings, DROP COLUMN ood_score;`);
  }
}
