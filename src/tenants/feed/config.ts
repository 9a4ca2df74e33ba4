import type { Tx } from "../../db/index.js";
import type { TenantConfig } from "../../gen/tenantmesh/v1/tenant.js";
import { liveKeyDigests } from "../api-key-store.js";
import { toTenantMessage, type TenantRow } from "../model.js";

/**
 * TenantConfigs as the feed sends them: the tenant, the digests of its live API keys, its tenant-wide session
 * cut-off. Tenants still provisioning are left out: they serve nothing yet, and a rolled-back provisioning
 * then leaves no trace in any proxy (activation is provisioning's last step, so the first change a proxy sees
 * for a tenant is its activation).
 */
export async function loadTenantConfigs(trx: Tx, tenantIds: readonly string[] | "all", now: Date): Promise<Map<string, TenantConfig>> {
  const configs = new Map<string, TenantConfig>();
  if (tenantIds !== "all" && tenantIds.length === 0) return configs;
  let q = trx<TenantRow>("tenants").whereNot({ status: "provisioning" });
  if (tenantIds !== "all") q = q.whereIn("id", [...tenantIds]);
  const rows = await q.orderBy([{ column: "created_at" }, { column: "id" }]);
  if (rows.length === 0) return configs;
  const keys = await liveKeyDigests(trx, tenantIds === "all" ? "all" : rows.map((r) => r.id), now);
  for (const row of rows) {
    configs.set(row.id, {
      tenant: toTenantMessage(row),
      apiKeys: keys.get(row.id) ?? [],
      sessionsValidAfter: row.sessions_valid_after ?? undefined,
    });
  }
  return configs;
}

/** One row of the change log */
export interface ChangeRow {
  version: number;
  tenant_id: string;
}

/**
 * The newest change per tenant among `rows`, in version order. A change carries the tenant's whole current
 * configuration, so earlier changes of the same tenant in one batch add nothing.
 */
export function coalesce(rows: readonly ChangeRow[]): ChangeRow[] {
  const latest = new Map<string, ChangeRow>();
  for (const row of rows) latest.set(row.tenant_id, row);
  return [...latest.values()].sort((a, b) => a.version - b.version);
}

/** Change-log bounds: min and max retained version (0 when the log is empty) */
export async function changeBounds(trx: Tx): Promise<{ min: number; max: number }> {
  const row = (await trx("tenant_changes").min({ min: "version" }).max({ max: "version" }).first()) as
    | { min: number | string | null; max: number | string | null }
    | undefined;
  return { min: Number(row?.min ?? 0), max: Number(row?.max ?? 0) };
}

/** Change rows with from < version ≤ to (to undefined: no upper bound), oldest first, at most `limit` */
export async function readChanges(trx: Tx, from: number, to: number | undefined, limit: number): Promise<ChangeRow[]> {
  let q = trx("tenant_changes").select("version", "tenant_id").where("version", ">", from);
  if (to !== undefined) q = q.andWhere("version", "<=", to);
  const rows = (await q.orderBy("version").limit(limit)) as Array<{ version: number | string; tenant_id: string }>;
  return rows.map((r) => ({ version: Number(r.version), tenant_id: r.tenant_id }));
}

/**
 * Deletes change rows older than `retainMs`, always keeping the newest row (so the current version stays known
 * and a client that is up to date can still resume). Deletes a prefix by version, never a row above a kept
 * one: created_at is a transaction's start, not its commit order, so "older than" alone could punch a hole
 * that a resuming client would silently miss. Returns how many rows went.
 */
export async function compactChanges(trx: Tx, retainMs: number, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - retainMs);
  const result: unknown = await trx("tenant_changes")
    .whereRaw(
      `version < COALESCE((SELECT min(version) FROM tenant_changes WHERE created_at >= ?), (SELECT max(version) FROM tenant_changes))`,
      [cutoff],
    )
    .delete();
  // pg answers a count, knex-pglite an object with affectedRows
  return typeof result === "number" ? result : Number((result as { affectedRows?: number } | undefined)?.affectedRows ?? 0);
}
