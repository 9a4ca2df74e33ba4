import type { Allocation, Pool, QuotaStatus } from "../gen/tenantmesh/v1/quota.js";
import type { QuotaResult } from "./check.js";
import type { AllocationResult, PoolState } from "./pools.js";

/** int64 fields travel as decimal strings (forceLong=string) */
const i64 = (n: number): string => String(Math.trunc(n));

export function quotaMessage(r: QuotaResult): QuotaStatus {
  return {
    tenantId: r.tenantId,
    resourceType: r.resourceType,
    quota: r.quota,
    unit: r.unit,
    allowed: r.allowed,
    limited: r.limited,
    limit: i64(r.limit),
    used: i64(r.used),
    remaining: i64(r.remaining),
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
  };
}

export function poolMessage(p: PoolState): Pool {
  return {
    name: p.name,
    unit: p.unit,
    totalCapacity: i64(p.capacity),
    allocated: i64(p.allocated),
    available: i64(p.available),
    utilization: p.utilization,
    tenants: p.tenants.map((t) => ({ tenantId: t.tenantId, allocated: i64(t.allocated) })),
    lastUpdated: p.updatedAt,
  };
}

export function allocationMessage(a: AllocationResult): Allocation {
  return { tenantId: a.tenantId, pool: a.pool, allocated: i64(a.allocated), tenantLimit: i64(a.tenantLimit), poolState: poolMessage(a.poolState) };
}
