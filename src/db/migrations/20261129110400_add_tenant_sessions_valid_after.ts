import type { Migration } from "./migration.js";

/** Tenant-wide session revocation: sessions issued before this instant are no longer valid anywhere */
export const addTenantSessionsValidAfter: Migration = {
  name: "20261129110400_add_tenant_sessions_valid_after",
  async up(knex) {
    await knex.raw("ALTER TABLE tenants ADD COLUMN sessions_valid_after TIMESTAMP WITH TIME ZONE");
  },
  async down(knex) {
    await knex.raw("ALTER TABLE tenants DROP COLUMN sessions_valid_after");
  },
};
