import type { Migration } from "./migration.js";

/** CIDR blocks a tenant's callers must come from (empty: anywhere). The one source of truth the proxy enforces. */
export const addTenantNetworkRestrictions: Migration = {
  name: "20261129110200_add_tenant_network_restrictions",
  async up(knex) {
    await knex.raw(`ALTER TABLE tenants
      ADD COLUMN network_restrictions JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(network_restrictions) = 'array')`);
  },
  async down(knex) {
    await knex.raw("ALTER TABLE tenants DROP COLUMN network_restrictions");
  },
};
