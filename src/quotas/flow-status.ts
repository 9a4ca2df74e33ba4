import type { Tx } from "../db/index.js";
import type { PendingUsage } from "../metering/index.js";
import { evaluateQuota, type QuotaResult } from "./check.js";
import { quotaFor } from "./definitions.js";
import type { TenantQuotaRow } from "./limits.js";

/** The monthly flow quotas the proxy enforces itself (it is where API calls and compute happen) */
export const proxyEnforcedQuotas = ["api_calls", "compute"] as const;

/**
 * The proxy-enforced quotas of many tenants at once (RecordUsage's `return_quotas`), read in the platform's
 * transaction. Unknown tenants are left out.
 */
export async function flowQuotaStatuses(trx: Tx, tenantIds: readonly string[], nowMs: number, pending?: PendingUsage): Promise<QuotaResult[]> {
  if (tenantIds.length === 0) return [];
  const rows = (await trx("tenants")
    .select(
      "id",
      "status",
      "plan_type",
      "max_businesses",
      "max_users",
      "storage_quota_gb",
      "compute_quota_hours",
      "concurrent_users",
      "sessions_valid_after",
      "database_connections",
      "cache_entries",
      "cpu_quota_millicores",
    )
    .whereIn("id", [...tenantIds])) as TenantQuotaRow[];
  const out: QuotaResult[] = [];
  for (const tenant of rows) {
    for (const resource of proxyEnforcedQuotas) {
      const def = quotaFor(resource);
      if (def) out.push(await evaluateQuota(trx, tenant, def, 0, nowMs, pending));
    }
  }
  return out;
}
