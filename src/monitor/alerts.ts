import type { Database, Tx } from "../db/index.js";
import { evaluateAlertRules, type AlertConfig, type QuotaUse } from "./alert-rules.js";
import { applyAlertConditions, type AlertChanges } from "./alert-store.js";
import { Aggregate } from "./model.js";
import { windowRows } from "./store.js";

interface TenantLimits {
  id: string;
  max_response_time_ms: number;
  max_businesses: number;
  max_users: number;
  storage_quota_gb: number;
  compute_quota_hours: number;
}

const GIB = 1024 ** 3;
const HOUR_MS = 3_600_000;

/**
 * Quota use per tenant. Stock quotas count live rows (as quota enforcement does); flow quotas read the
 * metering rollups in `tenant_resource_usage`: storage is the net of all `storage` byte events, compute the
 * current month's `compute` milliseconds. API calls have no monthly cap in the plans, so no quota alert.
 */
async function quotaUse(trx: Tx, tenants: readonly TenantLimits[], now: Date): Promise<Map<string, QuotaUse[]>> {
  const count = async (table: string): Promise<Map<string, number>> => {
    const rows = (await trx(table).whereNull("deleted_at").groupBy("tenant_id").select("tenant_id", trx.raw("count(*)::int AS n"))) as Array<{ tenant_id: string; n: number }>;
    return new Map(rows.map((r) => [r.tenant_id, Number(r.n)]));
  };
  const usage = async (resource: string, from: Date | undefined): Promise<Map<string, number>> => {
    let q = trx("tenant_resource_usage").where({ resource_type: resource, granularity: "month" });
    if (from !== undefined) q = q.where("usage_period", ">=", from);
    const rows = (await q.groupBy("tenant_id").select("tenant_id", trx.raw("sum(usage_count)::float8 AS n"))) as Array<{ tenant_id: string; n: number }>;
    return new Map(rows.map((r) => [r.tenant_id, Number(r.n)]));
  };
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const [businesses, users, storage, compute] = await Promise.all([count("businesses"), count("users"), usage("storage", undefined), usage("compute", monthStart)]);
  const out = new Map<string, QuotaUse[]>();
  for (const t of tenants) {
    out.set(t.id, [
      { resource: "businesses", used: businesses.get(t.id) ?? 0, limit: t.max_businesses },
      { resource: "users", used: users.get(t.id) ?? 0, limit: t.max_users },
      { resource: "storage", used: storage.get(t.id) ?? 0, limit: t.storage_quota_gb * GIB },
      { resource: "compute", used: compute.get(t.id) ?? 0, limit: t.compute_quota_hours * HOUR_MS },
    ]);
  }
  return out;
}

/**
 * One alert evaluation over every active tenant: latency, errors and throttling over the last `periodMs` of
 * windows, quotas as they stand. Raises and clears in `tenant_alerts`; returns what changed.
 */
export async function evaluateAlerts(db: Database, now: number, periodMs: number, config?: AlertConfig): Promise<AlertChanges> {
  const at = new Date(now);
  const inputs = await db.asPlatform(async (trx) => {
    const tenants = (await trx("tenants")
      .where({ status: "active" })
      .select("id", "max_response_time_ms", "max_businesses", "max_users", "storage_quota_gb", "compute_quota_hours")) as TenantLimits[];
    const rows = await windowRows(trx, new Date(now - periodMs), at);
    const open = (await trx("tenant_alerts").whereNull("cleared_at").select("tenant_id", "kind", "resource")) as Array<{ tenant_id: string; kind: string; resource: string }>;
    return { tenants, rows, quotas: await quotaUse(trx, tenants, at), open: new Set(open.map((a) => `${a.tenant_id}|${a.kind}|${a.resource}`)) };
  });
  const perTenant = new Map<string, { total: Aggregate; windows: Map<number, { requests: number; throttled: number }>; windowMs: number }>();
  for (const r of inputs.rows) {
    let t = perTenant.get(r.tenant_id);
    if (t === undefined) perTenant.set(r.tenant_id, (t = { total: new Aggregate(), windows: new Map(), windowMs: r.window_seconds * 1_000 }));
    t.total.add(r);
    const start = r.measurement_period.getTime();
    const w = t.windows.get(start) ?? { requests: 0, throttled: 0 };
    w.requests += Number(r.requests);
    w.throttled += Number(r.throttled);
    t.windows.set(start, w);
  }
  const changes: AlertChanges = { raised: [], cleared: [] };
  for (const tenant of inputs.tenants) {
    const t = perTenant.get(tenant.id);
    const throttleWindows = t === undefined
      ? []
      : [...t.windows.entries()].filter(([, w]) => w.requests > 0).sort(([a], [b]) => a - b).map(([start, w]) => ({ start, rate: w.throttled / w.requests }));
    const conditions = evaluateAlertRules(
      {
        maxResponseTimeMs: tenant.max_response_time_ms,
        requests: t?.total.requests ?? 0,
        errors: t?.total.errors ?? 0,
        p99Ms: t?.total.histogram.percentileMs(99) ?? 0,
        throttleWindows,
        windowMs: t?.windowMs ?? 0,
        quotas: inputs.quotas.get(tenant.id) ?? [],
      },
      config,
    );
    // Only conditions that change something: most tenants, most of the time, have nothing to raise or clear.
    const relevant = conditions.filter((c) => c.active || inputs.open.has(`${tenant.id}|${c.kind}|${c.resource}`));
    if (relevant.length === 0) continue;
    const applied = await db.withTenant(tenant.id, (trx) => applyAlertConditions(trx, tenant.id, relevant, at));
    changes.raised.push(...applied.raised);
    changes.cleared.push(...applied.cleared);
  }
  return changes;
}
