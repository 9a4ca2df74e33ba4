/**
 * Shared resource pools: the seed's AllocateResources (tenant quota checked, pool availability checked, the
 * amount allocated to the tenant, available and utilization updated) plus release. One transaction per call,
 * which first locks the pool's row: allocations of one pool run one after another, so neither the pool nor a
 * tenant's quota can be oversubscribed by parallel calls (and the pool's CHECK would refuse it anyway).
 */
import type { Tx } from "../db/index.js";
import { invalidArgument, notFound, TenantMeshError } from "../errors/index.js";
import { evaluateQuota, requireQuotaDefinition, quotaError } from "./check.js";
import { readTenantQuotas } from "./limits.js";

/** Pool names and their units; capacities are configuration */
export const poolNames = ["database", "cache", "compute_slots"] as const;
export type PoolName = (typeof poolNames)[number];
export const isPoolName = (v: string): v is PoolName => (poolNames as readonly string[]).includes(v);
export const poolUnits: Readonly<Record<PoolName, string>> = { database: "connections", cache: "entries", compute_slots: "millicores" };

/** Default capacities (also what the migration seeds) */
export const defaultPoolCapacities: Readonly<Record<PoolName, number>> = { database: 1_000, cache: 10_000_000, compute_slots: 256_000 };

export interface PoolState {
  name: string;
  unit: string;
  capacity: number;
  allocated: number;
  available: number;
  /** allocated / capacity, 0..1 */
  utilization: number;
  tenants: Array<{ tenantId: string; allocated: number }>;
  updatedAt: Date;
}

export interface AllocationResult {
  tenantId: string;
  pool: PoolName;
  /** The tenant's holding after the call */
  allocated: number;
  tenantLimit: number;
  poolState: PoolState;
}

interface PoolRow {
  name: string;
  unit: string;
  capacity: unknown;
  allocated: unknown;
  updated_at: Date;
}

export function requirePoolName(value: string): PoolName {
  if (!isPoolName(value)) throw invalidArgument([{ field: "pool", description: `must be one of ${poolNames.join(", ")}` }]);
  return value;
}

/** Writes configured capacities; a capacity below what is allocated now is raised to the allocation (and logged by the caller) */
export async function configurePools(trx: Tx, capacities: Readonly<Record<PoolName, number>>): Promise<string[]> {
  const clamped: string[] = [];
  for (const name of poolNames) {
    const capacity = capacities[name];
    const rows = (await trx.raw(
      `INSERT INTO resource_pools (name, unit, capacity) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET capacity = GREATEST(EXCLUDED.capacity, resource_pools.allocated), updated_at = NOW()
       RETURNING capacity`,
      [name, poolUnits[name], capacity],
    )) as { rows: Array<{ capacity: unknown }> };
    if (Number(rows.rows[0]?.capacity) !== capacity) clamped.push(name);
  }
  return clamped;
}

async function lockPool(trx: Tx, name: PoolName): Promise<PoolRow> {
  const row = (await trx("resource_pools").where({ name }).forUpdate().first()) as PoolRow | undefined;
  if (row === undefined) throw notFound(`pool ${name}`);
  return row;
}

async function holding(trx: Tx, tenantId: string, pool: PoolName): Promise<number> {
  const row = (await trx("pool_allocations").select("amount").where({ tenant_id: tenantId, pool }).first()) as { amount: unknown } | undefined;
  return Number(row?.amount ?? 0);
}

/** The seed's AllocateResources; RESOURCE_EXHAUSTED when the tenant's quota or the pool has no room */
export async function allocate(trx: Tx, tenantId: string, pool: PoolName, amount: number, nowMs: number): Promise<AllocationResult> {
  const row = await lockPool(trx, pool);
  const tenant = await readTenantQuotas(trx, tenantId, { lock: false });
  if (tenant.status !== "active") throw new TenantMeshError("TM_ERR_TENANT_INACTIVE", `the tenant is ${tenant.status}; it cannot take pool resources`);
  const quota = await evaluateQuota(trx, tenant, requireQuotaDefinition(pool, "pool"), amount, nowMs);
  if (!quota.allowed) throw quotaError(quota);
  const capacity = Number(row.capacity);
  const available = capacity - Number(row.allocated);
  if (available < amount) {
    throw new TenantMeshError("TM_ERR_QUOTA_EXCEEDED", `pool ${pool} exhausted: capacity ${capacity}, allocated ${capacity - available}, requested ${amount} (${row.unit})`);
  }
  await trx("resource_pools").where({ name: pool }).update({ allocated: trx.raw("allocated + ?", [amount]), updated_at: new Date(nowMs) });
  await trx.raw(
    `INSERT INTO pool_allocations (tenant_id, pool, amount, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant_id, pool) DO UPDATE SET amount = pool_allocations.amount + EXCLUDED.amount, updated_at = EXCLUDED.updated_at`,
    [tenantId, pool, amount, new Date(nowMs)],
  );
  return { tenantId, pool, allocated: quota.used + amount, tenantLimit: quota.limit, poolState: await poolState(trx, pool) };
}

/** Gives `amount` back; FAILED_PRECONDITION when the tenant holds less */
export async function release(trx: Tx, tenantId: string, pool: PoolName, amount: number, nowMs: number): Promise<AllocationResult> {
  await lockPool(trx, pool);
  const tenant = await readTenantQuotas(trx, tenantId, { lock: false });
  const held = await holding(trx, tenantId, pool);
  if (held < amount) {
    throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `cannot release ${amount} of pool ${pool}: the tenant holds ${held}`);
  }
  await trx("resource_pools").where({ name: pool }).update({ allocated: trx.raw("allocated - ?", [amount]), updated_at: new Date(nowMs) });
  await trx("pool_allocations").where({ tenant_id: tenantId, pool }).update({ amount: held - amount, updated_at: new Date(nowMs) });
  const limit = requireQuotaDefinition(pool, "pool").limit(tenant) ?? 0;
  return { tenantId, pool, allocated: held - amount, tenantLimit: limit, poolState: await poolState(trx, pool) };
}

/** A pool's state with every tenant holding some of it */
export async function poolState(trx: Tx, pool: PoolName): Promise<PoolState> {
  const row = (await trx("resource_pools").where({ name: pool }).first()) as PoolRow | undefined;
  if (row === undefined) throw notFound(`pool ${pool}`);
  const holders = (await trx("pool_allocations").select("tenant_id", "amount").where({ pool }).where("amount", ">", 0).orderBy("tenant_id")) as Array<{
    tenant_id: string;
    amount: unknown;
  }>;
  const capacity = Number(row.capacity);
  const allocated = Number(row.allocated);
  return {
    name: row.name,
    unit: row.unit,
    capacity,
    allocated,
    available: capacity - allocated,
    utilization: capacity === 0 ? 0 : allocated / capacity,
    tenants: holders.map((h) => ({ tenantId: h.tenant_id, allocated: Number(h.amount) })),
    updatedAt: new Date(row.updated_at),
  };
}
