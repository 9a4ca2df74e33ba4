import { addUpdatedAtTrigger, enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** The KYB platform's own tenant-scoped table: the businesses a tenant verifies */
export const createBusinesses: Migration = {
  name: "20261129100600_create_businesses",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE businesses (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      name VARCHAR(255) NOT NULL CHECK (length(btrim(name)) > 0),
      registration_number VARCHAR(100),
      country CHAR(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
      industry_code VARCHAR(10),
      status VARCHAR(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_review', 'verified', 'rejected')),
      risk_score SMALLINT CHECK (risk_score BETWEEN 0 AND 100),
      details JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      deleted_at TIMESTAMP WITH TIME ZONE NULL
    )`);
    await knex.raw("CREATE INDEX idx_businesses_tenant_created ON businesses (tenant_id, created_at, id)");
    await addUpdatedAtTrigger(knex, "businesses");
    await enableTenantRls(knex, "businesses", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE businesses");
  },
};
