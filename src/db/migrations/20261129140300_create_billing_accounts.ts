import { addUpdatedAtTrigger, enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** A tenant's billing account: made by provisioning's billing step from the tenant's billing_info */
export const createBillingAccounts: Migration = {
  name: "20261129140300_create_billing_accounts",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE billing_accounts (
      tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      currency CHAR(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      billing_cycle VARCHAR(20) NOT NULL CHECK (billing_cycle IN ('monthly', 'annual')),
      billing_info JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await addUpdatedAtTrigger(knex, "billing_accounts");
    await enableTenantRls(knex, "billing_accounts", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE billing_accounts");
  },
};
