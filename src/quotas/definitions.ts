/**
 * Every quota of a tenant, in one table: what limits it (a tenant column or the plan), what counts against it,
 * and in which unit. Three kinds:
 * - stock: rows that exist now (businesses, users, active sessions), counted in the caller's transaction under
 *   the tenant-row lock, so parallel creates queue and cannot overshoot;
 * - flow: usage read from the metering store (API calls and compute this month, storage ever stored);
 * - pool: what the tenant holds of a shared resource pool.
 */
import type { Tx } from "../db/index.js";
import { monthRowsTotal, type PendingUsage } from "../metering/index.js";
import { addMonths, periodStart } from "../metering/periods.js";
import { isPlanType, planFor } from "../plans/index.js";
import type { TenantQuotaRow } from "./limits.js";

export type QuotaKind = "stock" | "flow" | "pool";

export interface QuotaDefinition {
  /** The resource_type CheckQuota takes */
  readonly resource: string;
  /** The setting that limits it, as errors and docs name it */
  readonly quota: string;
  readonly unit: string;
  readonly kind: QuotaKind;
  /** For monthly flow quotas: the usage counted is this calendar month's (UTC) */
  readonly monthly: boolean;
  /** The limit in `unit`; null means no cap */
  limit(t: TenantQuotaRow): number | null;
  /** Current use in `unit`; flow quotas add `pending` (acknowledged usage not rolled up yet) when given */
  used(trx: Tx, t: TenantQuotaRow, nowMs: number, pending?: PendingUsage): Promise<number>;
}

const GB = 1_000_000_000;
const HOUR_MS = 3_600_000;
const count = (rows: Array<Record<string, unknown>>): number => Number(rows[0]?.n ?? 0);
const thisMonth = (nowMs: number): [number, number] => {
  const start = periodStart("month", nowMs);
  return [start, addMonths(start, 1)];
};

/** This month's usage of a flow resource: the rollups plus what is acknowledged and not rolled up yet */
const monthly =
  (resource: string) =>
  async (trx: Tx, t: TenantQuotaRow, nowMs: number, pending?: PendingUsage): Promise<number> => {
    const [start, end] = thisMonth(nowMs);
    return (await monthRowsTotal(trx, t.id, resource, start, end)) + (pending?.(t.id, resource, start) ?? 0);
  };

/** Monthly API calls are capped only where the plan refuses overage instead of billing it (the free plan) */
function apiCallCap(t: TenantQuotaRow): number | null {
  if (!isPlanType(t.plan_type)) return null;
  const rates = planFor(t.plan_type).rates;
  return rates.overageAllowed ? null : rates.included.api_calls;
}

const poolUse = (pool: string) => async (trx: Tx, t: TenantQuotaRow): Promise<number> => {
  const row = (await trx("pool_allocations").select("amount").where({ tenant_id: t.id, pool }).first()) as { amount: unknown } | undefined;
  return Number(row?.amount ?? 0);
};

export const quotaDefinitions: readonly QuotaDefinition[] = [
  {
    resource: "businesses",
    quota: "max_businesses",
    unit: "businesses",
    kind: "stock",
    monthly: false,
    limit: (t) => t.max_businesses,
    used: async (trx, t) => count(await trx("businesses").where({ tenant_id: t.id }).whereNull("deleted_at").count({ n: "*" })),
  },
  {
    resource: "users",
    quota: "max_users",
    unit: "users",
    kind: "stock",
    monthly: false,
    limit: (t) => t.max_users,
    used: async (trx, t) => count(await trx("users").where({ tenant_id: t.id }).whereNull("deleted_at").count({ n: "*" })),
  },
  {
    resource: "concurrent_users",
    quota: "concurrent_users",
    unit: "sessions",
    kind: "stock",
    monthly: false,
    limit: (t) => t.concurrent_users,
    // Sessions still counting: not revoked, not expired, not cut off by a tenant-wide revocation.
    used: async (trx, t, nowMs) => {
      let q = trx("user_sessions").where({ tenant_id: t.id }).whereNull("revoked_at").where("expires_at", ">", new Date(nowMs));
      if (t.sessions_valid_after !== null) q = q.where("created_at", ">=", t.sessions_valid_after);
      return count(await q.count({ n: "*" }));
    },
  },
  {
    resource: "storage",
    quota: "storage_quota_gb",
    unit: "bytes",
    kind: "flow",
    monthly: false,
    limit: (t) => (t.storage_quota_gb === null ? null : t.storage_quota_gb * GB),
    used: async (trx, t, nowMs, pending) => (await monthRowsTotal(trx, t.id, "storage", undefined, thisMonth(nowMs)[1])) + (pending?.(t.id, "storage") ?? 0),
  },
  {
    resource: "compute",
    quota: "compute_quota_hours",
    unit: "ms",
    kind: "flow",
    monthly: true,
    limit: (t) => (t.compute_quota_hours === null ? null : t.compute_quota_hours * HOUR_MS),
    used: monthly("compute"),
  },
  {
    resource: "api_calls",
    quota: "monthly_api_calls",
    unit: "calls",
    kind: "flow",
    monthly: true,
    limit: apiCallCap,
    used: monthly("api_calls"),
  },
  { resource: "database", quota: "database_connections", unit: "connections", kind: "pool", monthly: false, limit: (t) => t.database_connections, used: poolUse("database") },
  { resource: "cache", quota: "cache_entries", unit: "entries", kind: "pool", monthly: false, limit: (t) => t.cache_entries, used: poolUse("cache") },
  { resource: "compute_slots", quota: "cpu_quota_millicores", unit: "millicores", kind: "pool", monthly: false, limit: (t) => t.cpu_quota_millicores, used: poolUse("compute_slots") },
];

const byResource = new Map(quotaDefinitions.map((d) => [d.resource, d]));

/** The definition of a quota by the resource_type CheckQuota names it with */
export const quotaFor = (resource: string): QuotaDefinition | undefined => byResource.get(resource);
export const quotaResources: readonly string[] = quotaDefinitions.map((d) => d.resource);
