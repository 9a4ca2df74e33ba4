import type { Migration } from "./migration.js";

/**
 * The audit relay (src/audit/relay.ts) reads tenant events newer than its watermark across all tenants every
 * few seconds; without this index that read would scan the whole table.
 */
export const indexTenantEventsCreatedAt: Migration = {
  name: "20261129150700_index_tenant_events_created_at",
  async up(knex) {
    await knex.raw("CREATE INDEX idx_tenant_events_created_at ON tenant_events (created_at)");
  },
  async down(knex) {
    await knex.raw("DROP INDEX idx_tenant_events_created_at");
  },
};
