import type { Tx } from "../db/index.js";
import { periodStart, type Granularity } from "./periods.js";
import type { UsageEvent } from "./resources.js";

/** One rollup cell: a tenant's usage of one resource type in one hour, day or month */
interface Cell {
  tenantId: string;
  resourceType: string;
  granularity: Granularity;
  period: number;
  amount: number;
}

/**
 * Sums events into hour, day and month cells. Aggregating first is what makes ingestion fast: a batch becomes
 * one row change per cell, not three per event. Events are summed per tenant, resource type and hour (nested
 * maps: no per-event key strings); days and months are then summed from the far fewer hour cells. The cells come
 * out in the unique key's order (tenant, resource type, granularity, period), so concurrent writers on
 * PostgreSQL lock rows in one order and cannot deadlock.
 */
export function aggregate(events: Iterable<UsageEvent>): Cell[] {
  const byTenant = new Map<string, Map<string, Map<number, number>>>();
  for (const e of events) {
    if (e.amount === 0) continue;
    let byType = byTenant.get(e.tenantId);
    if (!byType) byTenant.set(e.tenantId, (byType = new Map()));
    let hours = byType.get(e.resourceType);
    if (!hours) byType.set(e.resourceType, (hours = new Map()));
    const hour = periodStart("hour", e.occurredAt.getTime());
    hours.set(hour, (hours.get(hour) ?? 0) + e.amount);
  }
  const cells: Cell[] = [];
  for (const tenantId of [...byTenant.keys()].sort()) {
    const byType = byTenant.get(tenantId) as Map<string, Map<number, number>>;
    for (const resourceType of [...byType.keys()].sort()) {
      const hours = byType.get(resourceType) as Map<number, number>;
      const days = new Map<number, number>();
      const months = new Map<number, number>();
      for (const [hour, amount] of hours) {
        const day = periodStart("day", hour);
        days.set(day, (days.get(day) ?? 0) + amount);
        const month = periodStart("month", day);
        months.set(month, (months.get(month) ?? 0) + amount);
      }
      // "day" < "hour" < "month": the granularity order of the unique key.
      for (const [granularity, periods] of [["day", days], ["hour", hours], ["month", months]] as const) {
        for (const period of [...periods.keys()].sort((a, b) => a - b)) {
          cells.push({ tenantId, resourceType, granularity, period, amount: periods.get(period) as number });
        }
      }
    }
  }
  return cells;
}

/**
 * Adds events to the rollups in one statement: an UPSERT whose conflict branch adds (`usage_count + excluded`),
 * so concurrent writers never lose each other's counts and no read-modify-write is needed. Runs in the
 * caller's transaction: as the platform (ingestion) or inside one tenant's RLS transaction (KYB, users), where
 * the policy's WITH CHECK refuses a cell of any other tenant.
 */
export async function applyUsage(trx: Tx, events: Iterable<UsageEvent>): Promise<number> {
  const cells = aggregate(events);
  if (cells.length === 0) return 0;
  const tenants: string[] = [];
  const types: string[] = [];
  const grains: string[] = [];
  const periods: string[] = [];
  const amounts: number[] = [];
  for (const c of cells) {
    tenants.push(c.tenantId);
    types.push(c.resourceType);
    grains.push(c.granularity);
    periods.push(new Date(c.period).toISOString());
    amounts.push(c.amount);
  }
  // The cell is the table's primary key: one index to maintain per row, and no row id to make.
  await trx.raw(
    `INSERT INTO tenant_resource_usage (tenant_id, resource_type, granularity, usage_period, usage_count)
     SELECT t, r, g, p, n FROM unnest(?::uuid[], ?::text[], ?::text[], ?::timestamptz[], ?::bigint[]) WITH ORDINALITY AS u(t, r, g, p, n, i)
     ORDER BY i
     ON CONFLICT (tenant_id, resource_type, granularity, usage_period)
     DO UPDATE SET usage_count = tenant_resource_usage.usage_count + EXCLUDED.usage_count`,
    [tenants, types, grains, periods, amounts],
  );
  return cells.length;
}
