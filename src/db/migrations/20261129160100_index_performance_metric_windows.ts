import type { Migration } from "./migration.js";

/**
 * One window row per tenant, window and proxy: a proxy that re-sends a window after a reconnect is ignored
 * (ON CONFLICT DO NOTHING against this index), and reads by tenant and time use it too.
 */
export const indexPerformanceMetricWindows: Migration = {
  name: "20261129160100_index_performance_metric_windows",
  async up(knex) {
    await knex.raw(`CREATE UNIQUE INDEX tenant_performance_metrics_window_key
      ON tenant_performance_metrics (tenant_id, measurement_period, window_seconds, source) WHERE metric_type = 'window'`);
    await knex.raw(`CREATE INDEX tenant_performance_metrics_window_period
      ON tenant_performance_metrics (measurement_period) WHERE metric_type = 'window'`);
  },
  async down(knex) {
    await knex.raw("DROP INDEX tenant_performance_metrics_window_period");
    await knex.raw("DROP INDEX tenant_performance_metrics_window_key");
  },
};
