import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * Messages owed to a tenant's people (password-reset links, invitations), written in the same transaction as
 * the change that owes them; a deployment's mailer delivers and marks them.
 */
export const createTenantOutbox: Migration = {
  name: "20261129111000_create_tenant_outbox",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_outbox (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      kind VARCHAR(50) NOT NULL,
      recipient VARCHAR(255) NOT NULL,
      payload JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      delivered_at TIMESTAMP WITH TIME ZONE
    )`);
    await enableTenantRls(knex, "tenant_outbox", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_outbox");
  },
};
