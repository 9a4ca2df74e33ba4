/**
 * Password reset by single-use token.
 *
 * RequestPasswordReset never reveals whether the tenant or account exists: the answer has the same shape
 * either way. For a live user of an active tenant it makes a 256-bit token, stores only its SHA-256 and expiry
 * (users.password_reset_token / password_reset_expires; a newer request replaces an older token), and writes
 * the token to tenant_outbox (kind `password_reset`) in the same transaction: the outbox is the delivery
 * channel, a deployment's mailer sends it. An operator, or a holder of users:admin in that tenant, also gets
 * the token back (for support flows and tests).
 *
 * ResetPassword consumes the token: wrong, expired, already used, unknown user — all one UNAUTHENTICATED
 * "invalid or expired reset token", so the endpoint is no oracle; the client's remedy is always "request a new
 * link". Consumption is a compare-and-set on the stored hash, so one token works once even under races, and
 * every session of the user is revoked.
 */
import { checkOneTimeToken, checkPasswordPolicy, generateOneTimeToken, hashPassword } from "../auth/index.js";
import { invalidArgument, TenantMeshError } from "../errors/index.js";
import type { RequestPasswordResetResponse } from "../gen/tenantmesh/v1/user.js";
import { findTenantBySlug, requireOwnTenantOnPublicCall, type Caller, type UsersDeps } from "./context.js";
import { revokeSessions } from "./sessions.js";
import { findUserByEmail, normalizeEmail, setUserColumns } from "./store.js";

/** The outbox kind of reset messages; payload `{ token, user_id, expires_at }` */
export const PASSWORD_RESET_OUTBOX_KIND = "password_reset";

const invalidToken = (): TenantMeshError => new TenantMeshError("TM_ERR_UNAUTHENTICATED", "invalid or expired reset token");

export async function requestPasswordReset(
  deps: UsersDeps,
  caller: Pick<Caller, "principal" | "log">,
  input: { tenantSlug: string; email: string },
): Promise<RequestPasswordResetResponse> {
  const tenant = await findTenantBySlug(deps.db, input.tenantSlug);
  requireOwnTenantOnPublicCall(caller, tenant?.id);
  const now = deps.clock.now();
  const expiresAt = new Date(now + deps.resetTtlMs);
  const { principal } = caller;
  const mayReceive =
    principal.kind === "operator" ||
    ((principal.kind === "user" || principal.kind === "api_key") && principal.tenantId === tenant?.id && principal.grants.has("users:admin"));

  if (tenant === undefined || tenant.status !== "active") return { resetToken: "", expiresAt };
  const { token, hash } = generateOneTimeToken();
  const issued = await deps.db.withTenant(tenant.id, async (trx) => {
    const user = await findUserByEmail(trx, input.email);
    if (user === undefined) return undefined;
    await setUserColumns(trx, user.id, { password_reset_token: hash, password_reset_expires: expiresAt });
    await trx("tenant_outbox").insert({
      tenant_id: tenant.id,
      kind: PASSWORD_RESET_OUTBOX_KIND,
      recipient: user.email,
      payload: JSON.stringify({ token, user_id: user.id, expires_at: expiresAt.toISOString() }),
      created_at: new Date(now),
    });
    return user.id;
  });
  // Logged without the token or the email: the user id (when there is one) is enough to trace it.
  if (issued !== undefined) caller.log.info({ tenant_id: tenant.id, user_id: issued }, "password reset issued");
  return { resetToken: issued !== undefined && mayReceive ? token : "", expiresAt };
}

export async function resetPassword(
  deps: UsersDeps,
  caller: Pick<Caller, "principal" | "log">,
  input: { tenantSlug: string; email: string; resetToken: string; newPassword: string },
): Promise<void> {
  const violations = checkPasswordPolicy(input.newPassword).map((v) => ({ ...v, field: "new_password" }));
  if (violations.length > 0) throw invalidArgument(violations);
  const tenant = await findTenantBySlug(deps.db, input.tenantSlug);
  requireOwnTenantOnPublicCall(caller, tenant?.id);
  // Hashed before anything is looked up, so a known and an unknown account cost the same.
  const passwordHash = await hashPassword(input.newPassword);
  if (tenant === undefined || tenant.status !== "active") throw invalidToken();
  const now = new Date(deps.clock.now());
  const userId = await deps.db.withTenant(tenant.id, async (trx) => {
    const user = await findUserByEmail(trx, normalizeEmail(input.email));
    if (user === undefined || user.password_reset_token === null || user.password_reset_expires === null) throw invalidToken();
    const stored = { hash: user.password_reset_token, expiresAt: user.password_reset_expires };
    if (!checkOneTimeToken(input.resetToken, stored, deps.clock).ok) throw invalidToken();
    const changed = await trx("users")
      .where({ id: user.id, password_reset_token: stored.hash })
      .whereNull("deleted_at")
      .update({ password_hash: passwordHash, password_reset_token: null, password_reset_expires: null })
      .returning("id");
    if (changed.length === 0) throw invalidToken();
    await revokeSessions(trx, { user_id: user.id }, now);
    return user.id;
  });
  caller.log.info({ tenant_id: tenant.id, user_id: userId }, "password reset; sessions revoked");
}
