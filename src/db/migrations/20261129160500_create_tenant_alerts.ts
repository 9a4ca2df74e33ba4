import { addUpdatedAtTrigger, enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * Per-tenant alerts, raised and cleared with timestamps. At most one open alert per tenant, kind and resource
 * (a partial unique index), so a condition that stays true keeps one alert open instead of raising it again.
 */
export const createTenantAlerts: Migration = {
  name: "20261129160500_create_tenant_alerts",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_alerts (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      kind VARCHAR(30) NOT NULL CHECK (kind IN ('latency_p99', 'error_rate', 'quota', 'throttling')),
      resource VARCHAR(50) NOT NULL DEFAULT '',
      severity VARCHAR(10) NOT NULL CHECK (severity IN ('warning', 'critical')),
      message TEXT NOT NULL,
      value DOUBLE PRECISION NOT NULL,
      threshold DOUBLE PRECISION NOT NULL,
      raised_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      cleared_at TIMESTAMP WITH TIME ZONE,
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      CHECK (cleared_at IS NULL OR cleared_at >= raised_at)
    )`);
    await knex.raw("CREATE UNIQUE INDEX tenant_alerts_one_open ON tenant_alerts (tenant_id, kind, resource) WHERE cleared_at IS NULL");
    await knex.raw("CREATE INDEX tenant_alerts_tenant_raised ON tenant_alerts (tenant_id, raised_at DESC, id DESC)");
    await enableTenantRls(knex, "tenant_alerts", roles);
    await addUpdatedAtTrigger(knex, "tenant_alerts");
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_alerts");
  },
};
