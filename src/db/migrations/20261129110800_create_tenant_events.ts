import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** Every lifecycle change of a tenant (provisioned, suspended, plan changed, …), with who did it and why */
export const createTenantEvents: Migration = {
  name: "20261129110800_create_tenant_events",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_events (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      event_type VARCHAR(50) NOT NULL,
      actor VARCHAR(255) NOT NULL,
      detail JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await knex.raw("CREATE INDEX idx_tenant_events_tenant ON tenant_events (tenant_id, created_at)");
    await enableTenantRls(knex, "tenant_events", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_events");
  },
};
