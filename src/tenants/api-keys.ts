import { generateApiKey, hashApiKeySecret, parseApiKey, verifyApiKeySecret } from "../auth/api-key.js";
import type { Clock } from "../auth/clock.js";
import { effectiveGrants, isRole, roleRank, type Principal, type Role } from "../authz/index.js";
import type { Database, Tx } from "../db/index.js";
import { invalidArgument, notFound, permissionDenied, TenantMeshError, type FieldViolation } from "../errors/index.js";
import type { CredentialVerifier } from "../grpc/index.js";
import type { Logger } from "../log/index.js";
import { findKeyForAuth, insertApiKey, listApiKeys, revokeApiKey, touchApiKey, type ApiKeyRow } from "./api-key-store.js";
import { insertTenantEvent } from "./store.js";

/** last_used_at is written at most this often per key: authentication stays a read on the hot path */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreateKeyInput {
  tenantId: string;
  name: string;
  /** Empty: user */
  role: string;
  expiresAt: Date | undefined;
}

/** The role a principal holds in its tenant; operators rank above every role */
const callerRank = (p: Principal): number => (p.kind === "user" || p.kind === "api_key" ? roleRank[p.role] : Number.POSITIVE_INFINITY);

/**
 * Makes a key for the tenant. Its role may not exceed the caller's own (a manager cannot mint an admin key);
 * the secret is in the returned token only.
 */
export async function createApiKey(
  trx: Tx,
  input: CreateKeyInput,
  caller: { principal: Principal; actor: string; pepper: Buffer; now: Date },
): Promise<{ token: string; row: ApiKeyRow }> {
  const violations: FieldViolation[] = [];
  const name = input.name.trim();
  if (name === "" || name.length > 100) violations.push({ field: "name", description: "must be 1 to 100 characters" });
  const role = input.role === "" ? "user" : input.role;
  if (!isRole(role)) violations.push({ field: "role", description: "must be admin, manager, user or viewer" });
  if (input.expiresAt !== undefined && input.expiresAt.getTime() <= caller.now.getTime()) {
    violations.push({ field: "expires_at", description: "must be in the future" });
  }
  if (violations.length > 0) throw invalidArgument(violations);
  if (roleRank[role as Role] > callerRank(caller.principal)) throw permissionDenied("a key cannot have a higher role than its creator");

  const key = generateApiKey();
  const row = await insertApiKey(trx, {
    key_id: key.keyId,
    tenant_id: input.tenantId,
    name,
    secret_hash: hashApiKeySecret(caller.pepper, key.keyId, key.secret),
    role: role as Role,
    created_by: caller.actor,
    expires_at: input.expiresAt ?? null,
  });
  await insertTenantEvent(trx, { tenantId: input.tenantId, type: "api_key_created", actor: caller.actor, detail: { key_id: row.key_id, role: row.role } });
  return { token: key.token, row };
}

export const listKeys = (trx: Tx, tenantId: string, includeRevoked: boolean): Promise<ApiKeyRow[]> => listApiKeys(trx, tenantId, includeRevoked);

/** Revokes at once (the verifier reads the row on every use); revoking a revoked key returns it unchanged */
export async function revokeKey(trx: Tx, tenantId: string, keyId: string, actor: string, now: Date): Promise<ApiKeyRow> {
  if (!/^[a-z2-7]{12}$/.test(keyId)) throw notFound(`api key ${keyId.slice(0, 32)}`);
  const result = await revokeApiKey(trx, tenantId, keyId, now);
  if (result === undefined) throw notFound(`api key ${keyId}`);
  if (result.revokedNow) await insertTenantEvent(trx, { tenantId, type: "api_key_revoked", actor, detail: { key_id: keyId } });
  return result.row;
}

/**
 * The `tm_` credential verifier: the key is looked up by its id (the primary key) on the platform path,
 * its secret compared in constant time with the stored HMAC, and it is refused when revoked or expired.
 * A valid key of a tenant that is not active fails with TM_ERR_TENANT_INACTIVE, after the secret check so
 * the answer tells nothing to someone without the secret.
 */
export function apiKeyVerifier(options: { db: Database; pepper: Buffer; clock: Clock; log: Logger }): CredentialVerifier {
  const { db, pepper, clock, log } = options;
  return {
    async verify(token) {
      const parsed = parseApiKey(token);
      if (parsed === null) return null;
      const row = await db.asPlatform((trx) => findKeyForAuth(trx, parsed.keyId));
      if (row === undefined || !verifyApiKeySecret(pepper, parsed.keyId, parsed.secret, row.secret_hash)) return null;
      const now = clock.now();
      if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at.getTime() <= now)) return null;
      if (row.tenant_status !== "active") {
        throw new TenantMeshError("TM_ERR_TENANT_INACTIVE", `the tenant is ${row.tenant_status}; its API keys are refused`);
      }
      if (row.last_used_at === null || now - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
        try {
          await db.asPlatform((trx) => touchApiKey(trx, row.key_id, new Date(now), new Date(now - LAST_USED_RESOLUTION_MS)));
        } catch (err) {
          // Use tracking is best effort: a failed write must not refuse a valid key.
          log.warn({ err: (err as Error).message, key_id: row.key_id }, "cannot record api key use");
        }
      }
      return { kind: "api_key", tenantId: row.tenant_id, keyId: row.key_id, role: row.role, grants: effectiveGrants(row.role) };
    },
  };
}
