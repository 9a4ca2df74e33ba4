import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** Every scaling decision the scaler acted on, with the metrics that caused it and what each executor did */
export const createTenantScalingEvents: Migration = {
  name: "20261129160400_create_tenant_scaling_events",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_scaling_events (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      direction VARCHAR(10) NOT NULL CHECK (direction IN ('up', 'down')),
      from_scale INTEGER NOT NULL,
      to_scale INTEGER NOT NULL,
      target_scale INTEGER NOT NULL,
      utilization DOUBLE PRECISION NOT NULL,
      reason TEXT NOT NULL,
      metrics JSONB NOT NULL DEFAULT '{}',
      executors JSONB NOT NULL DEFAULT '[]',
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await knex.raw("CREATE INDEX tenant_scaling_events_tenant_created ON tenant_scaling_events (tenant_id, created_at DESC, id DESC)");
    await enableTenantRls(knex, "tenant_scaling_events", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_scaling_events");
  },
};
