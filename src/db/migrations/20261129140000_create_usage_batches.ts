import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * The journal of RecordUsage batches: its primary key is what makes a batch count at most once. A batch is
 * acknowledged once its row (with its events, `payload`) is committed; the rollups take it later, in the
 * transaction that sets `rolled_up_at` — so every journaled batch is counted exactly once, even across a crash
 * in between (the pending ones are rolled up on restart). A platform table (batches span tenants): only the
 * platform role touches it. The payload is stored uncompressed (EXTERNAL): it is binary and does not compress.
 */
export const createUsageBatches: Migration = {
  name: "20261129140000_create_usage_batches",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE usage_batches (
      batch_id VARCHAR(128) PRIMARY KEY,
      digest CHAR(64) NOT NULL,
      source VARCHAR(100) NOT NULL DEFAULT '',
      event_count INTEGER NOT NULL CHECK (event_count >= 0),
      payload BYTEA,
      applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      rolled_up_at TIMESTAMP WITH TIME ZONE
    )`);
    await knex.raw("ALTER TABLE usage_batches ALTER COLUMN payload SET STORAGE EXTERNAL");
    await knex.raw("CREATE INDEX idx_usage_batches_pending ON usage_batches (applied_at) WHERE rolled_up_at IS NULL");
    await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON usage_batches TO ${quoteIdent(roles.platformRole)}`);
  },
  async down(knex) {
    await knex.raw("DROP TABLE usage_batches");
  },
};
