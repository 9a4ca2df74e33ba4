/**
 * SQL and row mapping for `api_keys`. Only the HMAC of a key's secret is ever stored; the secret exists in the
 * CreateApiKey response and nowhere else.
 */
import type { Role } from "../authz/index.js";
import type { Tx } from "../db/index.js";
import type { ApiKey, ApiKeyDigest } from "../gen/tenantmesh/v1/tenant.js";
import type { TenantStatus } from "./model.js";

export interface ApiKeyRow {
  key_id: string;
  tenant_id: string;
  name: string;
  /** HMAC-SHA-256 of `<key_id>:<secret>` under the deployment's pepper, hex */
  secret_hash: string;
  role: Role;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export type NewApiKey = Pick<ApiKeyRow, "key_id" | "tenant_id" | "name" | "secret_hash" | "role" | "created_by" | "expires_at">;

export function toApiKeyMessage(row: ApiKeyRow): ApiKey {
  return {
    keyId: row.key_id,
    tenantId: row.tenant_id,
    name: row.name,
    role: row.role,
    prefix: `tm_${row.key_id}_…`,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at ?? undefined,
    expiresAt: row.expires_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
  };
}

export const toApiKeyDigest = (row: Pick<ApiKeyRow, "key_id" | "secret_hash" | "role" | "expires_at">): ApiKeyDigest => ({
  keyId: row.key_id,
  secretHash: row.secret_hash,
  role: row.role,
  expiresAt: row.expires_at ?? undefined,
});

export async function insertApiKey(trx: Tx, key: NewApiKey): Promise<ApiKeyRow> {
  const [row] = await trx<ApiKeyRow>("api_keys").insert(key).returning("*");
  if (row === undefined) throw new Error("insert into api_keys returned no row");
  return row;
}

export async function deleteApiKey(trx: Tx, keyId: string): Promise<void> {
  await trx("api_keys").where({ key_id: keyId }).delete();
}

/** The tenant's keys, newest first; revoked ones only when asked for */
export async function listApiKeys(trx: Tx, tenantId: string, includeRevoked: boolean): Promise<ApiKeyRow[]> {
  let q = trx<ApiKeyRow>("api_keys").where({ tenant_id: tenantId });
  if (!includeRevoked) q = q.whereNull("revoked_at");
  return q.orderBy([{ column: "created_at", order: "desc" }, { column: "key_id" }]);
}

/** The first key made for the tenant (provisioning's), for a replayed ProvisionTenant */
export async function firstApiKey(trx: Tx, tenantId: string): Promise<ApiKeyRow | undefined> {
  return trx<ApiKeyRow>("api_keys").where({ tenant_id: tenantId }).orderBy([{ column: "created_at" }, { column: "key_id" }]).first();
}

export async function findApiKey(trx: Tx, tenantId: string, keyId: string): Promise<ApiKeyRow | undefined> {
  return trx<ApiKeyRow>("api_keys").where({ tenant_id: tenantId, key_id: keyId }).first();
}

/** Sets revoked_at unless already set; `revokedNow` says whether this call did it (undefined: no such key) */
export async function revokeApiKey(trx: Tx, tenantId: string, keyId: string, at: Date): Promise<{ row: ApiKeyRow; revokedNow: boolean } | undefined> {
  const changed = await trx("api_keys").where({ tenant_id: tenantId, key_id: keyId }).whereNull("revoked_at").update({ revoked_at: at }).returning("key_id");
  const row = await findApiKey(trx, tenantId, keyId);
  return row === undefined ? undefined : { row, revokedNow: changed.length > 0 };
}

/** A key with its tenant's status, by key id alone: the authentication path (platform transaction) */
export async function findKeyForAuth(trx: Tx, keyId: string): Promise<(ApiKeyRow & { tenant_status: TenantStatus }) | undefined> {
  return trx("api_keys as k")
    .join("tenants as t", "t.id", "k.tenant_id")
    .where("k.key_id", keyId)
    .first("k.*", "t.status as tenant_status");
}

/**
 * Records use; the WHERE makes racing replicas write at most once per interval. Each write also appends a
 * tenant_changes row (the api_keys trigger), which is why use is recorded coarsely.
 */
export async function touchApiKey(trx: Tx, keyId: string, at: Date, notBefore: Date): Promise<void> {
  await trx("api_keys")
    .where({ key_id: keyId })
    .andWhere((w) => void w.whereNull("last_used_at").orWhere("last_used_at", "<=", notBefore))
    .update({ last_used_at: at });
}

/** Keys a proxy must accept for the given tenants: not revoked, not expired at `now` */
export async function liveKeyDigests(trx: Tx, tenantIds: readonly string[] | "all", now: Date): Promise<Map<string, ApiKeyDigest[]>> {
  let q = trx<ApiKeyRow>("api_keys")
    .select("key_id", "tenant_id", "secret_hash", "role", "expires_at")
    .whereNull("revoked_at")
    .andWhere((w) => void w.whereNull("expires_at").orWhere("expires_at", ">", now));
  if (tenantIds !== "all") q = q.whereIn("tenant_id", [...tenantIds]);
  const byTenant = new Map<string, ApiKeyDigest[]>();
  for (const row of await q.orderBy("key_id")) {
    const list = byTenant.get(row.tenant_id) ?? [];
    list.push(toApiKeyDigest(row));
    byTenant.set(row.tenant_id, list);
  }
  return byTenant;
}
