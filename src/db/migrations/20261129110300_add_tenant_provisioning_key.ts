import type { Migration } from "./migration.js";

/** The idempotency key of the provisioning request that made the tenant: a retried request finds its tenant */
export const addTenantProvisioningKey: Migration = {
  name: "20261129110300_add_tenant_provisioning_key",
  async up(knex) {
    await knex.raw("ALTER TABLE tenants ADD COLUMN idempotency_key VARCHAR(128) UNIQUE");
  },
  async down(knex) {
    await knex.raw("ALTER TABLE tenants DROP COLUMN idempotency_key");
  },
};
