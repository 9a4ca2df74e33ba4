import type { Migration } from "./migration.js";

/**
 * Turns `tenant_performance_metrics` into the monitor's window store. A row with `metric_type = 'window'` is
 * one tenant's traffic through one proxy (`source`) in one window: its counts, the busy time behind
 * utilization, the derived p50/p95/p99, throughput and error rate, and the serialized HDR histogram of its
 * latencies, so that windows merge exactly when they are read together or downsampled (percentiles cannot be
 * averaged). `metric_value` keeps the seed's meaning for these rows: the response time (p99, ms). The new
 * columns are nullable, so the seed's one-metric rows stay valid.
 */
export const addPerformanceMetricWindows: Migration = {
  name: "20261129160000_add_performance_metric_windows",
  async up(knex) {
    await knex.raw(`ALTER TABLE tenant_performance_metrics
      ADD COLUMN window_seconds INTEGER CHECK (window_seconds > 0),
      ADD COLUMN source VARCHAR(200),
      ADD COLUMN requests BIGINT CHECK (requests >= 0),
      ADD COLUMN errors BIGINT CHECK (errors >= 0),
      ADD COLUMN throttled BIGINT CHECK (throttled >= 0),
      ADD COLUMN queued BIGINT CHECK (queued >= 0),
      ADD COLUMN queue_wait_ms DOUBLE PRECISION,
      ADD COLUMN busy_ms DOUBLE PRECISION,
      ADD COLUMN unit_capacity INTEGER,
      ADD COLUMN p50_ms DOUBLE PRECISION,
      ADD COLUMN p95_ms DOUBLE PRECISION,
      ADD COLUMN p99_ms DOUBLE PRECISION,
      ADD COLUMN throughput_rps DOUBLE PRECISION,
      ADD COLUMN error_rate DOUBLE PRECISION,
      ADD COLUMN latency_histogram TEXT`);
  },
  async down(knex) {
    await knex.raw(`ALTER TABLE tenant_performance_metrics
      DROP COLUMN window_seconds, DROP COLUMN source, DROP COLUMN requests, DROP COLUMN errors, DROP COLUMN throttled,
      DROP COLUMN queued, DROP COLUMN queue_wait_ms, DROP COLUMN busy_ms, DROP COLUMN unit_capacity, DROP COLUMN p50_ms,
      DROP COLUMN p95_ms, DROP COLUMN p99_ms, DROP COLUMN throughput_rps, DROP COLUMN error_rate, DROP COLUMN latency_histogram`);
  },
};
