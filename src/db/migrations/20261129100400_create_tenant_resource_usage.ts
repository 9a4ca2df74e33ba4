import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * The seed's `tenant_resource_usage`, corrected: counts are BIGINT (an INTEGER overflows at 2^31 API calls),
 * and the period's granularity is part of the unique key, so an hour, a day and a month starting at the same
 * instant are three rows, not one.
 */
export const createTenantResourceUsage: Migration = {
  name: "20261129100400_create_tenant_resource_usage",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_resource_usage (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      resource_type VARCHAR(50) NOT NULL,
      usage_count BIGINT NOT NULL DEFAULT 0,
      granularity VARCHAR(10) NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
      usage_period TIMESTAMP WITH TIME ZONE NOT NULL,
      created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),

      UNIQUE(tenant_id, resource_type, granularity, usage_period)
    )`);
    await enableTenantRls(knex, "tenant_resource_usage", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_resource_usage");
  },
};
