/**
 * The isolation report, as a pure function of stored windows. Definitions (docs/observability.md):
 * - windows are the report's buckets of `windowMs`; stored windows merge into them exactly;
 * - cluster utilization of a bucket = busy time / capacity time of every proxy's backends in it;
 * - a tenant's baseline = its p99 over its buckets of the last 24 h in which the cluster ran under 50%;
 * - a tenant is flagged when, within the lookback, its p99 exceeded the baseline by more than 5% in at least
 *   3 consecutive buckets, each of at least 100 requests (a bucket that fails either breaks the run);
 * - for a flagged tenant, the other tenants holding most of the cluster's capacity during its latest run.
 */
import type { CapacityUser, IsolationWindow, TenantIsolation } from "../gen/tenantmesh/v1/monitor.js";
import { LatencyHistogram } from "../telemetry/histogram.js";
import { Aggregate, bucketOf, type ClusterWindowRow, type WindowRow } from "./model.js";

export interface IsolationRules {
  readonly baselineMs: number;
  /** The cluster utilization under which a bucket counts toward baselines */
  readonly quietUtilization: number;
  /** p99 above baseline × (1 + this) counts as degraded */
  readonly tolerance: number;
  readonly consecutive: number;
  readonly minRequests: number;
  readonly topConsumers: number;
}

export const defaultIsolationRules: IsolationRules = Object.freeze({
  baselineMs: 24 * 3_600_000,
  quietUtilization: 0.5,
  tolerance: 0.05,
  consecutive: 3,
  minRequests: 100,
  topConsumers: 3,
});

export interface IsolationInput {
  /** Every tenant's window rows from now − baselineMs to now */
  readonly windows: readonly WindowRow[];
  readonly clusters: readonly ClusterWindowRow[];
  readonly windowMs: number;
  readonly lookbackMs: number;
  readonly now: number;
  readonly rules?: IsolationRules;
}

interface ClusterBucket {
  capacityMs: number;
  busyMs: number;
}

export function isolationReport(input: IsolationInput): TenantIsolation[] {
  const rules = input.rules ?? defaultIsolationRules;
  const { windowMs, now } = input;
  const byTenant = new Map<string, Map<number, Aggregate>>();
  for (const row of input.windows) {
    const start = bucketOf(row.measurement_period.getTime(), windowMs);
    let buckets = byTenant.get(row.tenant_id);
    if (buckets === undefined) byTenant.set(row.tenant_id, (buckets = new Map()));
    let agg = buckets.get(start);
    if (agg === undefined) buckets.set(start, (agg = new Aggregate()));
    agg.add(row);
  }
  const cluster = new Map<number, ClusterBucket>();
  for (const c of input.clusters) {
    const start = bucketOf(c.window_start.getTime(), windowMs);
    const b = cluster.get(start) ?? { capacityMs: 0, busyMs: 0 };
    b.capacityMs += Number(c.capacity_slots) * c.window_seconds * 1_000;
    b.busyMs += Number(c.busy_ms);
    cluster.set(start, b);
  }
  const utilization = (start: number): number | undefined => {
    const b = cluster.get(start);
    return b === undefined || b.capacityMs <= 0 ? undefined : b.busyMs / b.capacityMs;
  };
  const baselineFrom = now - rules.baselineMs;
  const lookbackFrom = now - input.lookbackMs;

  const report: TenantIsolation[] = [];
  for (const [tenantId, buckets] of byTenant) {
    const starts = [...buckets.keys()].sort((a, b) => a - b);
    const baseline = LatencyHistogram.create(true);
    let baselineWindows = 0;
    for (const s of starts) {
      const u = utilization(s);
      if (s < baselineFrom || u === undefined || u >= rules.quietUtilization) continue;
      baseline.add(buckets.get(s)!.histogram);
      baselineWindows++;
    }
    const baselineP99 = baseline.percentileMs(99);
    const latest = [...starts].reverse().find((s) => buckets.get(s)!.requests > 0);

    // The latest run of consecutive degraded buckets of enough traffic within the lookback.
    let run: number[] = [];
    let best: number[] = [];
    for (const s of starts) {
      if (s < lookbackFrom) continue;
      const agg = buckets.get(s)!;
      const degraded = baselineP99 > 0 && agg.requests >= rules.minRequests && agg.histogram.percentileMs(99) > baselineP99 * (1 + rules.tolerance);
      if (degraded && (run.length === 0 || s - run[run.length - 1]! === windowMs)) run.push(s);
      else run = degraded ? [s] : [];
      if (run.length >= rules.consecutive) best = [...run];
    }
    const flagged = best.length >= rules.consecutive;
    const flaggedWindows: IsolationWindow[] = best.map((s) => {
      const agg = buckets.get(s)!;
      return { start: new Date(s), requests: String(agg.requests), p99Ms: agg.histogram.percentileMs(99), clusterUtilization: utilization(s) ?? 0 };
    });
    report.push({
      tenantId,
      baselineP99Ms: baselineP99,
      baselineWindows,
      baselineRequests: String(baseline.count),
      currentP99Ms: latest === undefined ? 0 : buckets.get(latest)!.histogram.percentileMs(99),
      flagged,
      flaggedWindows,
      topConsumers: flagged ? topConsumers(byTenant, cluster, best, tenantId, rules.topConsumers) : [],
    });
  }
  return report.sort((a, b) => Number(b.flagged) - Number(a.flagged) || a.tenantId.localeCompare(b.tenantId));
}

/** The other tenants by capacity held during `starts`, as a share of the cluster's capacity then */
function topConsumers(byTenant: Map<string, Map<number, Aggregate>>, cluster: Map<number, ClusterBucket>, starts: readonly number[], self: string, n: number): CapacityUser[] {
  const capacityMs = starts.reduce((sum, s) => sum + (cluster.get(s)?.capacityMs ?? 0), 0);
  const users: CapacityUser[] = [];
  for (const [tenantId, buckets] of byTenant) {
    if (tenantId === self) continue;
    const busyMs = starts.reduce((sum, s) => sum + (buckets.get(s)?.busyMs ?? 0), 0);
    if (busyMs > 0) users.push({ tenantId, busyMs, capacityShare: capacityMs > 0 ? busyMs / capacityMs : 0 });
  }
  return users.sort((a, b) => b.busyMs - a.busyMs).slice(0, n);
}
