import type { MetricsPoint } from "../gen/tenantmesh/v1/monitor.js";
import { LatencyHistogram } from "../telemetry/histogram.js";

/** A window row of `tenant_performance_metrics` (metric_type = 'window') as the monitor reads it */
export interface WindowRow {
  tenant_id: string;
  measurement_period: Date;
  window_seconds: number;
  source: string;
  requests: number;
  errors: number;
  throttled: number;
  queued: number;
  queue_wait_ms: number;
  busy_ms: number;
  unit_capacity: number;
  latency_histogram: string;
}

/** A row of `cluster_performance_windows` */
export interface ClusterWindowRow {
  window_start: Date;
  window_seconds: number;
  source: string;
  capacity_slots: number;
  busy_ms: number;
}

/**
 * Windows merged into one interval: counts add, busy time adds, histograms merge exactly. `spanMs` is the
 * wall time the merged windows cover (for throughput and in-flight), which is not their sum when several
 * proxies reported the same window.
 */
export class Aggregate {
  requests = 0;
  errors = 0;
  throttled = 0;
  queued = 0;
  queueWaitMs = 0;
  busyMs = 0;
  /** The largest unit capacity reported (a tenant's backends may differ; the scaler wants one unit's size) */
  unitCapacity = 0;
  readonly histogram = LatencyHistogram.create(true);

  add(row: WindowRow): void {
    this.requests += Number(row.requests);
    this.errors += Number(row.errors);
    this.throttled += Number(row.throttled);
    this.queued += Number(row.queued);
    this.queueWaitMs += Number(row.queue_wait_ms);
    this.busyMs += Number(row.busy_ms);
    this.unitCapacity = Math.max(this.unitCapacity, Number(row.unit_capacity));
    if (row.latency_histogram) this.histogram.add(LatencyHistogram.decode(row.latency_histogram));
  }

  static of(rows: Iterable<WindowRow>): Aggregate {
    const a = new Aggregate();
    for (const r of rows) a.add(r);
    return a;
  }

  /** The wire form over [startMs, endMs) */
  toPoint(startMs: number, endMs: number): MetricsPoint {
    const seconds = Math.max(1e-9, (endMs - startMs) / 1_000);
    const rate = (n: number): number => (this.requests === 0 ? 0 : n / this.requests);
    return {
      start: new Date(startMs),
      end: new Date(endMs),
      requests: String(this.requests),
      errors: String(this.errors),
      throttled: String(this.throttled),
      queued: String(this.queued),
      p50Ms: this.histogram.percentileMs(50),
      p95Ms: this.histogram.percentileMs(95),
      p99Ms: this.histogram.percentileMs(99),
      throughputRps: this.requests / seconds,
      errorRate: rate(this.errors),
      throttleRate: rate(this.throttled),
      queueWaitMs: this.queued === 0 ? 0 : this.queueWaitMs / this.queued,
      inFlight: this.busyMs / (seconds * 1_000),
    };
  }
}

/** Start of the bucket of `stepMs` that `ms` falls in */
export const bucketOf = (ms: number, stepMs: number): number => Math.floor(ms / stepMs) * stepMs;
