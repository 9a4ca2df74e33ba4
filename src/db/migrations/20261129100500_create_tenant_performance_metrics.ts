import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** The seed's `tenant_performance_metrics`; its inline `INDEX …` (MySQL syntax) becomes a real index */
export const createTenantPerformanceMetrics: Migration = {
  name: "20261129100500_create_tenant_performance_metrics",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_performance_metrics (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      metric_type VARCHAR(50) NOT NULL,
      metric_value DECIMAL(10,4) NOT NULL,
      measurement_period TIMESTAMP WITH TIME ZONE NOT NULL,
      created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
    )`);
    await knex.raw("CREATE INDEX idx_tenant_performance_tenant_period ON tenant_performance_metrics (tenant_id, measurement_period)");
    await enableTenantRls(knex, "tenant_performance_metrics", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_performance_metrics");
  },
};
