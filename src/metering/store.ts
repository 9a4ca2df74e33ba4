/**
 * Reads of the metering store (`tenant_resource_usage`). Flow quotas and billing read month rows; GetUsage reads
 * whichever granularity it is asked for. Every function takes the caller's transaction: a tenant's RLS
 * transaction shows only that tenant's rows, the platform's shows all.
 */
import type { Tx } from "../db/index.js";
import type { Granularity } from "./periods.js";

const n = (v: unknown): number => Number(v ?? 0);

/** Sum of a tenant's usage of one resource type over the months starting in [fromMs, toMs) */
export async function monthRowsTotal(trx: Tx, tenantId: string, resourceType: string, fromMs: number | undefined, toMs: number): Promise<number> {
  let q = trx("tenant_resource_usage")
    .where({ tenant_id: tenantId, resource_type: resourceType, granularity: "month" })
    .where("usage_period", "<", new Date(toMs));
  if (fromMs !== undefined) q = q.where("usage_period", ">=", new Date(fromMs));
  const row = (await q.sum({ total: "usage_count" }).first()) as { total: unknown } | undefined;
  return n(row?.total);
}

/** Usage of one month for many tenants and resource types: tenant → resource type → amount */
export async function monthTotals(trx: Tx, tenantIds: readonly string[], resourceTypes: readonly string[], monthStartMs: number): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  if (tenantIds.length === 0) return out;
  const rows = (await trx("tenant_resource_usage")
    .select("tenant_id", "resource_type", "usage_count")
    .whereIn("tenant_id", [...tenantIds])
    .whereIn("resource_type", [...resourceTypes])
    .where({ granularity: "month", usage_period: new Date(monthStartMs) })) as Array<{ tenant_id: string; resource_type: string; usage_count: unknown }>;
  for (const r of rows) {
    let m = out.get(r.tenant_id);
    if (!m) out.set(r.tenant_id, (m = new Map()));
    m.set(r.resource_type, n(r.usage_count));
  }
  return out;
}

/** One rollup point */
export interface UsagePointRow {
  resourceType: string;
  periodStart: Date;
  amount: number;
}

/** A tenant's rollups of one granularity in [start, end), by period then resource type */
export async function usageSeries(
  trx: Tx,
  query: { tenantId: string; resourceType: string | undefined; granularity: Granularity; start: Date; end: Date },
): Promise<UsagePointRow[]> {
  let q = trx("tenant_resource_usage")
    .select("resource_type", "usage_period", "usage_count")
    .where({ tenant_id: query.tenantId, granularity: query.granularity })
    .where("usage_period", ">=", query.start)
    .where("usage_period", "<", query.end);
  if (query.resourceType !== undefined) q = q.where({ resource_type: query.resourceType });
  const rows = (await q.orderBy([{ column: "usage_period" }, { column: "resource_type" }])) as Array<{
    resource_type: string;
    usage_period: Date | string;
    usage_count: unknown;
  }>;
  return rows.map((r) => ({ resourceType: r.resource_type, periodStart: new Date(r.usage_period), amount: n(r.usage_count) }));
}
