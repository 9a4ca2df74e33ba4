import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * An invoice's lines, as computed when it was issued (never recomputed). The foreign key carries the tenant,
 * so a line can only ever belong to an invoice of its own tenant.
 */
export const createInvoiceLines: Migration = {
  name: "20261129140500_create_invoice_lines",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE invoice_lines (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL,
      invoice_id UUID NOT NULL,
      position INTEGER NOT NULL,
      kind VARCHAR(20) NOT NULL CHECK (kind IN ('base_fee', 'resource', 'usage', 'late_adjustment')),
      resource_type VARCHAR(50) NOT NULL,
      description VARCHAR(255) NOT NULL,
      quantity BIGINT NOT NULL,
      unit VARCHAR(20) NOT NULL,
      included BIGINT NOT NULL,
      billable BIGINT NOT NULL,
      rate_micros BIGINT NOT NULL,
      units_per_billing_unit BIGINT NOT NULL CHECK (units_per_billing_unit > 0),
      amount_minor BIGINT NOT NULL,
      for_period VARCHAR(7) NOT NULL DEFAULT '',
      FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE,
      UNIQUE (invoice_id, position)
    )`);
    await knex.raw("CREATE INDEX idx_invoice_lines_tenant_period ON invoice_lines (tenant_id, for_period)");
    await enableTenantRls(knex, "invoice_lines", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE invoice_lines");
  },
};
