/** The monitor's operations behind MonitorService, free of gRPC types beyond the generated messages */
import type { Database, Tx } from "../db/index.js";
import { isUuid } from "../db/index.js";
import { invalidArgument, type FieldViolation } from "../errors/index.js";
import type { IsolationReport, ListTenantMetricsResponse, ReportMetricsRequest, ReportMetricsResponse, TenantMetrics } from "../gen/tenantmesh/v1/monitor.js";
import { LatencyHistogram } from "../telemetry/histogram.js";
import { openAlertCounts } from "./alert-store.js";
import { isolationReport } from "./isolation.js";
import { Aggregate, bucketOf } from "./model.js";
import { clusterRows, insertClusterWindows, insertTenantWindows, windowRows, type CheckedWindow } from "./store.js";

const MAX_WINDOW_SECONDS = 3_600;

/** Validates one ReportMetrics message whole; a malformed window rejects it (INVALID_ARGUMENT naming the field) */
export function checkReport(req: ReportMetricsRequest): { tenants: CheckedWindow[]; clusters: ReportMetricsRequest["clusters"] } {
  const violations: FieldViolation[] = [];
  const bad = (field: string, description: string): void => void violations.push({ field, description });
  if (req.source === "" || req.source.length > 200) bad("source", "must be 1–200 characters");
  const count = (field: string, v: string | number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) bad(field, "must be a non-negative integer");
    return n;
  };
  const tenants: CheckedWindow[] = [];
  req.tenants.forEach((w, i) => {
    const f = (name: string): string => `tenants[${i}].${name}`;
    if (!isUuid(w.tenantId)) bad(f("tenant_id"), "must be a UUID");
    if (w.windowStart === undefined) bad(f("window_start"), "is required");
    if (!Number.isInteger(w.windowSeconds) || w.windowSeconds < 1 || w.windowSeconds > MAX_WINDOW_SECONDS) bad(f("window_seconds"), `must be 1–${MAX_WINDOW_SECONDS}`);
    const requests = count(f("requests"), w.requests);
    for (const [name, v] of [["errors", w.errors], ["throttled", w.throttled], ["queued", w.queued]] as const) {
      if (count(f(name), v) > requests) bad(f(name), "must not exceed requests");
    }
    for (const [name, v] of [["queue_wait_ms", w.queueWaitMs], ["busy_ms", w.busyMs]] as const) if (!Number.isFinite(v) || v < 0) bad(f(name), "must be a finite number ≥ 0");
    if (!Number.isInteger(w.unitCapacity) || w.unitCapacity < 0) bad(f("unit_capacity"), "must be an integer ≥ 0");
    let histogram: LatencyHistogram | undefined;
    try {
      histogram = LatencyHistogram.decode(w.latencyHistogram);
    } catch {
      bad(f("latency_histogram"), "is not an HDR histogram (V2 compressed, base64)");
    }
    if (histogram !== undefined && histogram.count !== requests) bad(f("latency_histogram"), `holds ${histogram.count} values for ${requests} requests`);
    if (histogram !== undefined && w.windowStart !== undefined) tenants.push({ window: { ...w, windowStart: w.windowStart }, histogram });
  });
  req.clusters.forEach((c, i) => {
    if (c.windowStart === undefined) bad(`clusters[${i}].window_start`, "is required");
    if (!Number.isInteger(c.windowSeconds) || c.windowSeconds < 1 || c.windowSeconds > MAX_WINDOW_SECONDS) bad(`clusters[${i}].window_seconds`, `must be 1–${MAX_WINDOW_SECONDS}`);
    count(`clusters[${i}].capacity_slots`, c.capacitySlots);
    if (!Number.isFinite(c.busyMs) || c.busyMs < 0) bad(`clusters[${i}].busy_ms`, "must be a finite number ≥ 0");
  });
  if (violations.length > 0) throw invalidArgument(violations);
  return { tenants, clusters: req.clusters };
}

/** Stores one checked report (the platform path: a proxy reports for every tenant) */
export async function ingestReport(db: Database, req: ReportMetricsRequest, into: ReportMetricsResponse): Promise<void> {
  const { tenants, clusters } = checkReport(req);
  const [t, c] = await db.asPlatform(async (trx) => [await insertTenantWindows(trx, req.source, tenants), await insertClusterWindows(trx, req.source, clusters)]);
  into.tenantWindows = String(Number(into.tenantWindows) + t);
  into.clusterWindows = String(Number(into.clusterWindows) + c);
}

/**
 * One tenant's metrics over [now − windowSeconds, now), read in its own RLS transaction, with an optional
 * series of `stepSeconds` buckets. Stored windows are attributed to the bucket they start in.
 */
export async function tenantMetrics(trx: Tx, tenantId: string, windowSeconds: number, stepSeconds: number, now: number): Promise<TenantMetrics> {
  const from = now - windowSeconds * 1_000;
  const rows = await windowRows(trx, new Date(from), new Date(now), tenantId);
  const series: TenantMetrics["series"] = [];
  if (stepSeconds > 0) {
    const stepMs = stepSeconds * 1_000;
    const buckets = new Map<number, Aggregate>();
    for (let s = bucketOf(from, stepMs); s < now; s += stepMs) buckets.set(s, new Aggregate());
    for (const r of rows) buckets.get(bucketOf(r.measurement_period.getTime(), stepMs))?.add(r);
    for (const [s, agg] of buckets) series.push(agg.toPoint(s, s + stepMs));
  }
  return { tenantId, total: Aggregate.of(rows).toPoint(from, now), series };
}

/** Every tenant with traffic in the window, busiest first, with its scale and open alerts (operators) */
export async function listTenantMetrics(db: Database, windowSeconds: number, now: number): Promise<ListTenantMetricsResponse> {
  const from = now - windowSeconds * 1_000;
  return db.asPlatform(async (trx) => {
    const rows = await windowRows(trx, new Date(from), new Date(now));
    const per = new Map<string, Aggregate>();
    for (const r of rows) {
      let a = per.get(r.tenant_id);
      if (a === undefined) per.set(r.tenant_id, (a = new Aggregate()));
      a.add(r);
    }
    if (per.size === 0) return { tenants: [] };
    const tenants = (await trx("tenants").whereIn("id", [...per.keys()]).select("id", "slug", "scale_current", "scale_min", "scale_max")) as Array<{
      id: string;
      slug: string;
      scale_current: number;
      scale_min: number;
      scale_max: number;
    }>;
    const alerts = await openAlertCounts(trx);
    return {
      tenants: tenants
        .map((t) => ({
          tenantId: t.id,
          slug: t.slug,
          metrics: per.get(t.id)!.toPoint(from, now),
          scale: t.scale_current,
          scaleMin: t.scale_min,
          scaleMax: t.scale_max,
          openAlerts: alerts.get(t.id) ?? 0,
        }))
        .sort((a, b) => Number(b.metrics.requests) - Number(a.metrics.requests)),
    };
  });
}

/** The isolation report over the last 24 h of windows (see isolation.ts for the definitions) */
export async function isolation(db: Database, windowSeconds: number, lookbackSeconds: number, now: number, baselineMs = 24 * 3_600_000): Promise<IsolationReport> {
  const from = new Date(now - baselineMs);
  const to = new Date(now);
  const { windows, clusters } = await db.asPlatform(async (trx) => ({ windows: await windowRows(trx, from, to), clusters: await clusterRows(trx, from, to) }));
  const tenants = isolationReport({ windows, clusters, windowMs: windowSeconds * 1_000, lookbackMs: lookbackSeconds * 1_000, now });
  return { generatedAt: new Date(now), windowSeconds, tenants };
}
