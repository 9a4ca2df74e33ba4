import type { Tx } from "../db/index.js";
import { invalidArgument, quotaExceeded, TenantMeshError } from "../errors/index.js";
import type { PendingUsage } from "../metering/index.js";
import { addMonths, periodStart } from "../metering/periods.js";
import { quotaFor, quotaResources, type QuotaDefinition } from "./definitions.js";
import { readTenantQuotas, type TenantQuotaRow } from "./limits.js";

/** The answer of CheckQuota */
export interface QuotaResult {
  tenantId: string;
  resourceType: string;
  quota: string;
  unit: string;
  allowed: boolean;
  /** False when nothing caps it (limit and remaining are then 0) */
  limited: boolean;
  limit: number;
  used: number;
  remaining: number;
  /** The month counted, for monthly quotas */
  periodStart: Date | undefined;
  periodEnd: Date | undefined;
}

/** The definition of `resource`, or INVALID_ARGUMENT naming the field */
export function requireQuotaDefinition(resource: string, field = "resource_type"): QuotaDefinition {
  const def = quotaFor(resource);
  if (def === undefined) throw invalidArgument([{ field, description: `must be one of ${quotaResources.join(", ")}` }]);
  return def;
}

/** The quota decision on a tenant row already read (for callers that check several quotas at once) */
export async function evaluateQuota(trx: Tx, tenant: TenantQuotaRow, def: QuotaDefinition, amount: number, nowMs: number, pending?: PendingUsage): Promise<QuotaResult> {
  const limit = def.limit(tenant);
  const used = await def.used(trx, tenant, nowMs, pending);
  const month = def.monthly ? periodStart("month", nowMs) : undefined;
  const limited = limit !== null;
  return {
    tenantId: tenant.id,
    resourceType: def.resource,
    quota: def.quota,
    unit: def.unit,
    allowed: !limited || used + amount <= limit,
    limited,
    limit: limit ?? 0,
    used,
    remaining: limited ? Math.max(0, limit - used) : 0,
    periodStart: month === undefined ? undefined : new Date(month),
    periodEnd: month === undefined ? undefined : new Date(addMonths(month, 1)),
  };
}

/**
 * The one quota check of tenantmesh: would `amount` more of `resource` fit the tenant's quota now? Stock and
 * pool quotas lock the tenant row first, so the answer stays true until the caller's transaction ends — create
 * in the same transaction and no parallel create can slip in between. Flow quotas read the metering store
 * (plus `pending`, the acknowledged usage not rolled up yet, where the caller has it: the QuotaService).
 */
export async function checkQuota(trx: Tx, tenantId: string, resource: string, amount: number, nowMs: number, pending?: PendingUsage): Promise<QuotaResult> {
  const def = requireQuotaDefinition(resource);
  const tenant = await readTenantQuotas(trx, tenantId, { lock: def.kind !== "flow" });
  return evaluateQuota(trx, tenant, def, amount, nowMs, pending);
}

const measuredUnits: ReadonlySet<string> = new Set(["ms", "bytes", "millicores"]);

/** The error a refused quota answers with: RESOURCE_EXHAUSTED / 429 naming the quota, its limit and the use */
export function quotaError(result: QuotaResult): TenantMeshError {
  // Counts read plainly ("limit 3, used 3"); measures name their unit, as the quota's name may not (hours vs ms).
  if (!measuredUnits.has(result.unit)) return quotaExceeded(result.quota, result.limit, result.used);
  return new TenantMeshError(
    "TM_ERR_QUOTA_EXCEEDED",
    `quota ${result.quota} exhausted: limit ${result.limit}, used ${result.used} (${result.unit})`,
  );
}

/** checkQuota, throwing the quota error when `amount` does not fit; the result otherwise */
export async function requireQuota(trx: Tx, tenantId: string, resource: string, amount: number, nowMs: number): Promise<QuotaResult> {
  const result = await checkQuota(trx, tenantId, resource, amount, nowMs);
  if (!result.allowed) throw quotaError(result);
  return result;
}
