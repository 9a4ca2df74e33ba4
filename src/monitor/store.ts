/**
 * SQL of the window store: `tenant_performance_metrics` rows with metric_type 'window' and
 * `cluster_performance_windows`. Every function runs in the transaction it is given: `withTenant` for a
 * tenant's own windows (RLS), `asPlatform` for ingestion, rollups and cross-tenant reports.
 */
import type { Tx } from "../db/index.js";
import type { ClusterWindow, TenantWindow } from "../gen/tenantmesh/v1/monitor.js";
import { LatencyHistogram } from "../telemetry/histogram.js";
import { Aggregate, bucketOf, type ClusterWindowRow, type WindowRow } from "./model.js";

export const WINDOW = "window";
/** DECIMAL(10,4) of the seed's metric_value holds at most this */
const METRIC_VALUE_MAX = 999_999.9999;

const windowColumns = [
  "tenant_id",
  "measurement_period",
  "window_seconds",
  "source",
  "requests",
  "errors",
  "throttled",
  "queued",
  "queue_wait_ms",
  "busy_ms",
  "unit_capacity",
  "latency_histogram",
] as const;

/** A validated window ready to store, with the histogram it was checked against */
export interface CheckedWindow {
  window: TenantWindow & { windowStart: Date };
  histogram: LatencyHistogram;
}

/** The row of one window: the reported counts plus what the monitor derives (percentiles, rates) */
function windowRow(source: string, { window: w, histogram }: CheckedWindow): Record<string, unknown> {
  const requests = Number(w.requests);
  const p99 = histogram.percentileMs(99);
  return {
    tenant_id: w.tenantId,
    metric_type: WINDOW,
    metric_value: Math.min(METRIC_VALUE_MAX, Math.round(p99 * 10_000) / 10_000),
    measurement_period: w.windowStart,
    window_seconds: w.windowSeconds,
    source,
    requests,
    errors: Number(w.errors),
    throttled: Number(w.throttled),
    queued: Number(w.queued),
    queue_wait_ms: w.queueWaitMs,
    busy_ms: w.busyMs,
    unit_capacity: w.unitCapacity,
    p50_ms: histogram.percentileMs(50),
    p95_ms: histogram.percentileMs(95),
    p99_ms: p99,
    throughput_rps: requests / w.windowSeconds,
    error_rate: requests === 0 ? 0 : Number(w.errors) / requests,
    latency_histogram: w.latencyHistogram,
  };
}

/**
 * Stores windows of existing tenants (a tenant deleted since the proxy saw it is skipped); a window already
 * stored for the same tenant, start, length and source is ignored, so re-sent windows count once. Returns how
 * many rows were new.
 */
export async function insertTenantWindows(trx: Tx, source: string, windows: readonly CheckedWindow[]): Promise<number> {
  if (windows.length === 0) return 0;
  const ids = [...new Set(windows.map((w) => w.window.tenantId))];
  const known = new Set(((await trx("tenants").whereIn("id", ids).select("id")) as Array<{ id: string }>).map((r) => r.id));
  const rows = windows.filter((w) => known.has(w.window.tenantId)).map((w) => windowRow(source, w));
  if (rows.length === 0) return 0;
  const insert = trx("tenant_performance_metrics").insert(rows).toSQL();
  const result = (await trx.raw(
    `${insert.sql} ON CONFLICT (tenant_id, measurement_period, window_seconds, source) WHERE metric_type = 'window' DO NOTHING RETURNING id`,
    insert.bindings,
  )) as { rows: unknown[] };
  return result.rows.length;
}

export async function insertClusterWindows(trx: Tx, source: string, windows: readonly ClusterWindow[]): Promise<number> {
  if (windows.length === 0) return 0;
  const rows = windows.map((w) => ({
    window_start: w.windowStart,
    window_seconds: w.windowSeconds,
    source,
    capacity_slots: Number(w.capacitySlots),
    busy_ms: w.busyMs,
  }));
  const result = (await trx("cluster_performance_windows").insert(rows).onConflict(["window_start", "window_seconds", "source"]).ignore().returning("source")) as unknown[];
  return result.length;
}

/** Window rows starting in [from, to), of one tenant or (undefined: platform only) every tenant, oldest first */
export async function windowRows(trx: Tx, from: Date, to: Date, tenantId?: string): Promise<WindowRow[]> {
  let q = trx("tenant_performance_metrics")
    .where({ metric_type: WINDOW })
    .where("measurement_period", ">=", from)
    .where("measurement_period", "<", to);
  if (tenantId !== undefined) q = q.where({ tenant_id: tenantId });
  return (await q.orderBy("measurement_period").select(...windowColumns)) as WindowRow[];
}

export async function clusterRows(trx: Tx, from: Date, to: Date): Promise<ClusterWindowRow[]> {
  return (await trx("cluster_performance_windows")
    .where("window_start", ">=", from)
    .where("window_start", "<", to)
    .orderBy("window_start")
    .select("window_start", "window_seconds", "source", "capacity_slots", "busy_ms")) as ClusterWindowRow[];
}

/**
 * Downsampling: window rows shorter than `toSeconds` that started before `before` are merged into rows of
 * `toSeconds` per tenant and source (histograms added, counts summed), and the originals deleted, in one
 * transaction. Because histograms merge exactly, percentiles over downsampled rows equal those over the
 * originals. Cluster windows are rolled up the same way. Returns the number of rows replaced.
 */
export async function downsample(trx: Tx, before: Date, toSeconds: number): Promise<number> {
  const stepMs = toSeconds * 1_000;
  // Only whole buckets: a bucket still receiving windows must not be cut in two.
  const cutoff = new Date(bucketOf(before.getTime(), stepMs));
  const rows = (await trx("tenant_performance_metrics")
    .where({ metric_type: WINDOW })
    .where("window_seconds", "<", toSeconds)
    .where("measurement_period", "<", cutoff)
    .select("id", ...windowColumns)) as Array<WindowRow & { id: string }>;
  const groups = new Map<string, { tenant: string; source: string; start: number; agg: Aggregate }>();
  for (const r of rows) {
    const start = bucketOf(r.measurement_period.getTime(), stepMs);
    const key = `${r.tenant_id}|${r.source}|${start}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { tenant: r.tenant_id, source: r.source, start, agg: new Aggregate() }));
    g.agg.add(r);
  }
  if (rows.length > 0) {
    for (let i = 0; i < rows.length; i += 1_000) await trx("tenant_performance_metrics").whereIn("id", rows.slice(i, i + 1_000).map((r) => r.id)).delete();
    for (const g of groups.values()) {
      const a = g.agg;
      const window: CheckedWindow = {
        window: {
          tenantId: g.tenant,
          windowStart: new Date(g.start),
          windowSeconds: toSeconds,
          requests: String(a.requests),
          errors: String(a.errors),
          throttled: String(a.throttled),
          queued: String(a.queued),
          queueWaitMs: a.queueWaitMs,
          busyMs: a.busyMs,
          unitCapacity: a.unitCapacity,
          latencyHistogram: a.histogram.encode(),
        },
        histogram: a.histogram,
      };
      await insertTenantWindows(trx, g.source, [window]);
    }
  }
  await trx.raw(
    `WITH old AS (
       DELETE FROM cluster_performance_windows WHERE window_seconds < ? AND window_start < ? RETURNING *
     )
     INSERT INTO cluster_performance_windows (window_start, window_seconds, source, capacity_slots, busy_ms)
     SELECT to_timestamp(floor(extract(epoch FROM window_start) / ?) * ?), ?, source,
            round(sum(capacity_slots::double precision * window_seconds) / ?)::bigint, sum(busy_ms)
       FROM old GROUP BY 1, source
     ON CONFLICT (window_start, window_seconds, source) DO UPDATE
       SET capacity_slots = cluster_performance_windows.capacity_slots + EXCLUDED.capacity_slots,
           busy_ms = cluster_performance_windows.busy_ms + EXCLUDED.busy_ms`,
    [toSeconds, cutoff, toSeconds, toSeconds, toSeconds, toSeconds],
  );
  return rows.length;
}

/** Deletes window rows and cluster windows older than `before` (retention) */
export async function deleteWindowsBefore(trx: Tx, before: Date): Promise<number> {
  const gone = (await trx("tenant_performance_metrics").where({ metric_type: WINDOW }).where("measurement_period", "<", before).delete().returning("id")) as unknown[];
  await trx("cluster_performance_windows").where("window_start", "<", before).delete();
  return gone.length;
}
