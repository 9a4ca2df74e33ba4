import type { Migration } from "./migration.js";

/** The tenant's scale: its backend subset size in the proxy, moved at run time between min and max by the scaler */
export const addTenantScale: Migration = {
  name: "20261129110100_add_tenant_scale",
  async up(knex) {
    await knex.raw(`ALTER TABLE tenants
      ADD COLUMN scale_current INTEGER NOT NULL DEFAULT 1,
      ADD COLUMN scale_min INTEGER NOT NULL DEFAULT 1,
      ADD COLUMN scale_max INTEGER NOT NULL DEFAULT 1,
      ADD CONSTRAINT tenants_scale_check CHECK (scale_min >= 1 AND scale_min <= scale_current AND scale_current <= scale_max)`);
  },
  async down(knex) {
    await knex.raw("ALTER TABLE tenants DROP COLUMN scale_current, DROP COLUMN scale_min, DROP COLUMN scale_max");
  },
};
