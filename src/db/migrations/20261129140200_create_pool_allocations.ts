import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** What each tenant holds of each pool (one row per tenant and pool; released down to 0, never below) */
export const createPoolAllocations: Migration = {
  name: "20261129140200_create_pool_allocations",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE pool_allocations (
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      pool VARCHAR(50) NOT NULL REFERENCES resource_pools(name),
      amount BIGINT NOT NULL DEFAULT 0 CHECK (amount >= 0),
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      PRIMARY KEY (tenant_id, pool)
    )`);
    await knex.raw("CREATE INDEX idx_pool_allocations_pool ON pool_allocations (pool)");
    await enableTenantRls(knex, "pool_allocations", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE pool_allocations");
  },
};
