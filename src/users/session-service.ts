/**
 * Ending sessions: Logout (the calling session) and RevokeSessions (one user's, or the whole tenant's). Both
 * mark rows revoked, which the session verifier reads on every call, so the very next call with such a token
 * is UNAUTHENTICATED. A tenant-wide revocation also moves tenants.sessions_valid_after to now, the cut-off
 * proxies can apply to session tokens without asking the database.
 */
import { TenantMeshError, notFound } from "../errors/index.js";
import { tenantOf, type Caller, type UsersDeps } from "./context.js";
import { revokeSessions } from "./sessions.js";
import { findUserById, lockTenantForUsers } from "./store.js";

export async function logout(deps: UsersDeps, caller: Pick<Caller, "principal" | "log">): Promise<void> {
  const p = caller.principal;
  if (p.kind !== "user") {
    throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "Logout ends a user session; this credential is not a session token");
  }
  const at = new Date(deps.clock.now());
  await deps.db.withTenant(p.tenantId, (trx) => revokeSessions(trx, { id: p.sessionId, user_id: p.userId }, at));
  caller.log.info({ user_id: p.userId, session_id: p.sessionId }, "logged out");
}

/** Revokes one user's live sessions (user_id set) or every session of the tenant; returns how many */
export async function revokeTenantSessions(deps: UsersDeps, caller: Caller, userId: string): Promise<number> {
  const tenantId = tenantOf(caller);
  const at = new Date(deps.clock.now());
  const count = await caller.inTenant(async (trx) => {
    if (userId !== "") {
      if ((await findUserById(trx, userId, { includeDeleted: true })) === undefined) throw notFound("user");
      return revokeSessions(trx, { user_id: userId }, at);
    }
    await lockTenantForUsers(trx, tenantId);
    await trx("tenants").where({ id: tenantId }).update({ sessions_valid_after: at });
    return revokeSessions(trx, { tenant_id: tenantId }, at);
  });
  caller.log.info({ user_id: userId === "" ? undefined : userId, scope: userId === "" ? "tenant" : "user", revoked: count }, "sessions revoked");
  return count;
}
