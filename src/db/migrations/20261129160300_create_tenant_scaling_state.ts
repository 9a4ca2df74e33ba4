import { addUpdatedAtTrigger, enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * The seed's TenantScaler beyond what `tenants` holds (current/min/max scale live there, where the proxies'
 * feed reads them): the target scale, when and which way it last scaled (the cooldowns), and the last
 * evaluation. One row per tenant, written by the scaler.
 */
export const createTenantScalingState: Migration = {
  name: "20261129160300_create_tenant_scaling_state",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_scaling_state (
      tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      target_scale INTEGER NOT NULL CHECK (target_scale >= 1),
      utilization DOUBLE PRECISION NOT NULL DEFAULT 0,
      last_scaled_at TIMESTAMP WITH TIME ZONE,
      last_direction VARCHAR(10) CHECK (last_direction IN ('up', 'down')),
      last_decision TEXT NOT NULL DEFAULT '',
      evaluated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await enableTenantRls(knex, "tenant_scaling_state", roles);
    await addUpdatedAtTrigger(knex, "tenant_scaling_state");
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_scaling_state");
  },
};
