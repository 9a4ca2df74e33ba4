import { addUpdatedAtTrigger, enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * The seed's `tenants` table, column for column. Corrected for the lifecycle the control plane runs: status
 * also allows `provisioning` (the seed's provisioning flow sets it, its CHECK forgot it). Row-level security
 * keys on `id`: inside a tenant's transaction only that tenant's own row is visible.
 */
export const createTenants: Migration = {
  name: "20261129100200_create_tenants",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenants (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name VARCHAR(255) NOT NULL,
      slug VARCHAR(100) UNIQUE NOT NULL,
      plan_type VARCHAR(50) NOT NULL CHECK (plan_type IN ('free', 'basic', 'professional', 'enterprise')),
      status VARCHAR(20) NOT NULL DEFAULT 'active' CHECK (status IN ('provisioning', 'active', 'suspended', 'cancelled')),

      api_rate_limit INTEGER DEFAULT 100,
      max_businesses INTEGER DEFAULT 1000,
      max_users INTEGER DEFAULT 10,
      storage_quota_gb INTEGER DEFAULT 10,
      compute_quota_hours INTEGER DEFAULT 100,

      features JSONB DEFAULT '{}',
      enabled_modules JSONB DEFAULT '["classification", "risk_assessment"]',

      billing_info JSONB,
      usage_metrics JSONB DEFAULT '{}',
      billing_cycle VARCHAR(20) DEFAULT 'monthly',

      performance_tier VARCHAR(20) DEFAULT 'standard' CHECK (performance_tier IN ('standard', 'premium', 'enterprise')),
      priority_level INTEGER DEFAULT 5 CHECK (priority_level BETWEEN 1 AND 10),

      security_policy JSONB DEFAULT '{}',
      compliance_requirements JSONB DEFAULT '{}',
      data_retention_days INTEGER DEFAULT 2555,

      created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
      updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
      deleted_at TIMESTAMP WITH TIME ZONE NULL,

      CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z0-9-]+$')
    )`);
    await knex.raw("CREATE INDEX idx_tenants_status_plan ON tenants (status, plan_type)");
    await addUpdatedAtTrigger(knex, "tenants");
    await enableTenantRls(knex, "tenants", roles, "id");
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenants");
  },
};
