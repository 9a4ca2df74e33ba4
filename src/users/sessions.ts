/**
 * Server-side sessions behind the signed `tms_…` tokens. The token proves who signed in and until when; the
 * `user_sessions` row decides whether it still counts, so Logout, RevokeSessions, DeleteUser, a password reset
 * or a tenant suspension end it at the next call, not at the token's expiry.
 */
import { verifySessionToken, type Clock, type TokenSecrets } from "../auth/index.js";
import { effectiveGrants, isRole, type Principal } from "../authz/index.js";
import { isUuid, type Database, type Tx } from "../db/index.js";
import type { CredentialVerifier } from "../grpc/index.js";

/** A session row as stored */
export interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  last_seen_at: Date | null;
  revoked_at: Date | null;
}

/** last_activity is written at most this often per session, so verification is a read on most calls */
export const ACTIVITY_WRITE_INTERVAL_MS = 60_000;

/**
 * Sessions of the tenant that still count against `concurrent_users`: not revoked, not expired, and not cut
 * off by a tenant-wide revocation. Expired rows are left in place (history) and simply stop counting.
 */
export async function countActiveSessions(trx: Tx, tenantId: string, now: Date, validAfter: Date | null): Promise<number> {
  let q = trx("user_sessions").where({ tenant_id: tenantId }).whereNull("revoked_at").where("expires_at", ">", now);
  if (validAfter !== null) q = q.where("created_at", ">=", validAfter);
  const rows = await q.count({ n: "*" });
  return Number(rows[0]?.n ?? 0);
}

/** Records a new session; created_at comes from the injected clock so revocation cut-offs compare like with like */
export async function insertSession(
  trx: Tx,
  input: { tenantId: string; userId: string; createdAt: Date; expiresAt: Date; clientAddress: string | undefined },
): Promise<SessionRow> {
  const [row] = await trx<SessionRow>("user_sessions")
    .insert({
      tenant_id: input.tenantId,
      user_id: input.userId,
      created_at: input.createdAt,
      expires_at: input.expiresAt,
      last_seen_at: input.createdAt,
      client_address: input.clientAddress?.slice(0, 64) ?? null,
    } as Record<string, unknown>)
    .returning("*");
  if (row === undefined) throw new Error("insert into user_sessions returned no row");
  return row;
}

/** Revokes the live sessions matching `where` (one session, one user, or the whole tenant); returns how many */
export async function revokeSessions(trx: Tx, where: { id?: string; user_id?: string; tenant_id?: string }, at: Date): Promise<number> {
  const rows = await trx("user_sessions").where(where).whereNull("revoked_at").where("expires_at", ">", at).update({ revoked_at: at }).returning("id");
  return rows.length;
}

/** What the verifier reads in one query: the session, its user and its tenant */
interface SessionCheckRow {
  revoked_at: Date | null;
  expires_at: Date;
  created_at: Date;
  last_seen_at: Date | null;
  role: string;
  permissions: string[] | null;
  tenant_permissions: Record<string, unknown> | null;
  user_deleted_at: Date | null;
  tenant_status: string;
  tenant_deleted_at: Date | null;
  sessions_valid_after: Date | null;
}

const ms = (d: Date | string): number => (d instanceof Date ? d.getTime() : new Date(d).getTime());

/**
 * The check behind `verifiers.session` and VerifySession. Checks signature and expiry (stateless), then the session row
 * inside the token's tenant (RLS on): not revoked, not expired, created at or after the tenant's
 * sessions_valid_after (a tenant-wide revocation revokes every row too, so ">=" lets only sessions made after it
 * through), tenant active, user not deleted. Role and grants come from the user row, so a role change applies
 * to the very next call. Database failures propagate (they become UNAVAILABLE, not "invalid credential").
 */
export function createSessionChecker(deps: { db: Database; clock: Clock; secrets: TokenSecrets }): SessionChecker {
  return {
    async check(token): Promise<CheckedSession | null> {
      const now = deps.clock.now();
      const verified = verifySessionToken(deps.secrets, token, now);
      if (!verified.ok) return null;
      const { tenantId, userId, sessionId } = verified.claims;
      if (!isUuid(tenantId) || !isUuid(userId) || !isUuid(sessionId)) return null;
      return deps.db.withTenant(tenantId, async (trx) => {
        const row: SessionCheckRow | undefined = await trx("user_sessions as s")
          .join("users as u", "u.id", "s.user_id")
          .join("tenants as t", "t.id", "s.tenant_id")
          .where({ "s.id": sessionId, "s.user_id": userId, "s.tenant_id": tenantId })
          .first(
            "s.revoked_at",
            "s.expires_at",
            "s.created_at",
            "s.last_seen_at",
            "u.role",
            "u.permissions",
            "u.tenant_permissions",
            "u.deleted_at as user_deleted_at",
            "t.status as tenant_status",
            "t.deleted_at as tenant_deleted_at",
            "t.sessions_valid_after",
          );
        if (row === undefined || row.revoked_at !== null || ms(row.expires_at) <= now) return null;
        if (row.user_deleted_at !== null || row.tenant_status !== "active" || row.tenant_deleted_at !== null) return null;
        if (row.sessions_valid_after !== null && ms(row.created_at) < ms(row.sessions_valid_after)) return null;
        if (!isRole(row.role)) return null;
        if (row.last_seen_at === null || now - ms(row.last_seen_at) >= ACTIVITY_WRITE_INTERVAL_MS) {
          const at = new Date(now);
          await trx("user_sessions").where({ id: sessionId }).update({ last_seen_at: at });
          await trx("users").where({ id: userId }).update({ last_activity: at });
        }
        const grants = effectiveGrants(row.role, row.permissions ?? [], row.tenant_permissions ?? {});
        return { principal: { kind: "user", tenantId, userId, role: row.role, sessionId, grants }, expiresAt: new Date(verified.claims.expiresAt) };
      });
    },
  };
}

/** A session that passed every check, and when its token expires */
export interface CheckedSession {
  principal: Extract<Principal, { kind: "user" }>;
  expiresAt: Date;
}

/** Checks `tms_…` tokens against their signature, expiry and session record; null for any invalid token */
export interface SessionChecker {
  check(token: string): Promise<CheckedSession | null>;
}

/** The `verifiers.session` of the authenticator, over a SessionChecker */
export function sessionVerifier(checker: SessionChecker): CredentialVerifier {
  return { verify: async (token) => (await checker.check(token))?.principal ?? null };
}
