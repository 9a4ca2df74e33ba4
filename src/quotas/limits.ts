import type { Tx } from "../db/index.js";
import { notFound } from "../errors/index.js";

/** The tenant columns quota decisions read */
export interface TenantQuotaRow {
  id: string;
  status: string;
  plan_type: string;
  max_businesses: number | null;
  max_users: number | null;
  storage_quota_gb: number | null;
  compute_quota_hours: number | null;
  concurrent_users: number;
  sessions_valid_after: Date | null;
  database_connections: number;
  cache_entries: number;
  cpu_quota_millicores: number;
}

const columns = [
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
] as const;

/**
 * The tenant's quota columns. With `lock`, the row is held FOR NO KEY UPDATE until the transaction ends: every
 * check-then-create of a stock quota for one tenant then runs one after another, so two parallel creates cannot
 * both see room for one. (NO KEY UPDATE leaves inserts that merely reference the tenant unblocked.)
 */
export async function readTenantQuotas(trx: Tx, tenantId: string, options: { lock: boolean }): Promise<TenantQuotaRow> {
  const q = trx("tenants").select(columns).where({ id: tenantId }).whereNull("deleted_at");
  const row = (await (options.lock ? q.forNoKeyUpdate() : q).first()) as TenantQuotaRow | undefined;
  if (row === undefined) throw notFound("tenant");
  return row;
}
