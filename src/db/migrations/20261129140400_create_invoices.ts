import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * Issued invoices: one per tenant and billing period (the unique key makes GenerateInvoice idempotent even when
 * two calls race). UNIQUE (tenant_id, id) lets invoice lines reference an invoice together with its tenant.
 */
export const createInvoices: Migration = {
  name: "20261129140400_create_invoices",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE invoices (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      number VARCHAR(64) NOT NULL UNIQUE,
      period VARCHAR(7) NOT NULL,
      period_start TIMESTAMP WITH TIME ZONE NOT NULL,
      period_end TIMESTAMP WITH TIME ZONE NOT NULL CHECK (period_end > period_start),
      billing_cycle VARCHAR(20) NOT NULL CHECK (billing_cycle IN ('monthly', 'annual')),
      plan_type VARCHAR(50) NOT NULL,
      currency CHAR(3) NOT NULL,
      status VARCHAR(20) NOT NULL DEFAULT 'issued' CHECK (status IN ('issued')),
      total_minor BIGINT NOT NULL,
      issued_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      UNIQUE (tenant_id, period_start),
      UNIQUE (tenant_id, id)
    )`);
    await enableTenantRls(knex, "invoices", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE invoices");
  },
};
