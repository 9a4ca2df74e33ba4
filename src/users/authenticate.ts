/**
 * Sign-in: tenant slug + email + password (+ TOTP) → a server-side session and a signed `tms_…` token.
 *
 * What a stranger can learn: nothing. An unknown tenant, an unknown or deleted user and a wrong password all
 * do the same work (one scrypt verification — against a dummy hash when there is no user) and get the same
 * UNAUTHENTICATED "invalid credentials". Only a caller who has proven the password learns more: that a TOTP
 * code is needed, that the code was wrong (again "invalid credentials"), and — only after the whole credential
 * has been proven — that the tenant is not active (TM_ERR_TENANT_INACTIVE), which its own users need to know
 * and which nobody else can reach. Login attempts are not rate-limited here (see docs/auth.md).
 */
import { hashPassword, signSessionToken, verifyPassword, verifyTotp } from "../auth/index.js";
import { TenantMeshError } from "../errors/index.js";
import { requireQuota } from "../quotas/index.js";
import type { AuthenticateResponse } from "../gen/tenantmesh/v1/user.js";
import { findTenantBySlug, requireOwnTenantOnPublicCall, type Caller, type UsersDeps } from "./context.js";
import { insertSession } from "./sessions.js";
import { mfaRequired } from "../security/policy-store.js";
import { mfaSecretContext } from "./mfa.js";
import { findUserByEmail, findUserById, lockTenantForUsers, toUserMessage, type UserRow } from "./store.js";

export interface AuthenticateInput {
  tenantSlug: string;
  email: string;
  password: string;
  totpCode: string;
}

const invalidCredentials = (): TenantMeshError => new TenantMeshError("TM_ERR_UNAUTHENTICATED", "invalid credentials");

/** A hash of a random password, made once: verifying against it costs what a real verification costs */
let dummyHash: Promise<string> | undefined;
const dummy = (): Promise<string> => (dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`));

export async function authenticate(deps: UsersDeps, caller: Pick<Caller, "principal" | "peer" | "log" | "audit">, input: AuthenticateInput): Promise<AuthenticateResponse> {
  const tenant = await findTenantBySlug(deps.db, input.tenantSlug);
  requireOwnTenantOnPublicCall(caller, tenant?.id);
  const found =
    tenant === undefined
      ? undefined
      : await deps.db.withTenant(tenant.id, async (trx) => ({ user: await findUserByEmail(trx, input.email), requireMfa: await mfaRequired(trx, tenant.id) }));
  const user = found?.user;
  // Password verification happens outside any transaction: 60 ms of scrypt must not hold a connection.
  const passwordOk = await verifyPassword(input.password, user?.password_hash ?? (await dummy()));
  /** Every refusal of a known tenant goes into its audit log (unknown tenants have no log to go to) */
  const refuse = async (reason: string, error: TenantMeshError = invalidCredentials()): Promise<never> => {
    if (tenant === undefined) {
      // About the same database work as the audit append below, so timing does not tell which slugs exist.
      await deps.db.asPlatform(async (trx) => {
        for (let i = 0; i < 4; i++) await trx.raw("SELECT 1");
      });
    } else {
      await caller.audit({
        tenantId: tenant.id,
        action: "auth.failure",
        outcome: "failure",
        target: user === undefined ? "" : `user:${user.id}`,
        detail: { reason, email: input.email.slice(0, 255) },
      });
    }
    throw error;
  };
  if (tenant === undefined || user === undefined || !passwordOk) {
    caller.log.info({ tenant_known: tenant !== undefined }, "sign-in refused");
    return refuse(user === undefined ? "unknown_user" : "wrong_password");
  }

  const now = deps.clock.now();
  let mfaStep: number | undefined;
  if (user.mfa_enabled === true && user.mfa_secret !== null) {
    if (input.totpCode === "") {
      throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a TOTP code is required: send totp_code from the authenticator app");
    }
    const secret = (await deps.fields.forTenant(tenant.id)).open(user.mfa_secret, mfaSecretContext(user.id));
    const step = verifyTotp(secret, input.totpCode, now, { lastUsedCounter: lastStep(user) });
    if (step === null) return refuse("wrong_totp");
    mfaStep = step;
  } else if (found?.requireMfa === true) {
    // The tenant's policy requires MFA of every user: a password alone is never enough, whoever signs in.
    return refuse(
      "mfa_required_not_enrolled",
      new TenantMeshError("TM_ERR_UNAUTHENTICATED", "the tenant requires MFA and this user has none: an admin can enroll it (EnrollMfa)"),
    );
  }
  if (tenant.status !== "active") {
    return refuse("tenant_inactive", new TenantMeshError("TM_ERR_TENANT_INACTIVE", `the tenant is ${tenant.status}; sign-in is not possible`));
  }

  const createdAt = new Date(now);
  const expiresAt = new Date(now + deps.sessionTtlMs);
  const { session, row } = await deps.db.withTenant(tenant.id, async (trx) => {
    const limits = await lockTenantForUsers(trx, tenant.id);
    // Re-checked under the lock: a suspension or deletion that landed since the first read wins.
    if (limits.status !== "active") throw new TenantMeshError("TM_ERR_TENANT_INACTIVE", `the tenant is ${limits.status}; sign-in is not possible`);
    const current = await findUserById(trx, user.id, { forUpdate: true });
    if (current === undefined || current.password_hash !== user.password_hash) throw invalidCredentials();
    if (mfaStep !== undefined) {
      // Compare-and-set: of two logins racing with the same code, only one moves the step forward.
      const moved = await trx("users")
        .where({ id: user.id })
        .andWhere((q) => q.whereNull("mfa_last_step").orWhere("mfa_last_step", "<", mfaStep as number))
        .update({ mfa_last_step: mfaStep })
        .returning("id");
      if (moved.length === 0) throw invalidCredentials();
    }
    // concurrent_users through the one CheckQuota, under the tenant-row lock taken above.
    await requireQuota(trx, tenant.id, "concurrent_users", 1, now);
    const session = await insertSession(trx, { tenantId: tenant.id, userId: user.id, createdAt, expiresAt, clientAddress: caller.peer });
    await caller.audit(
      { tenantId: tenant.id, action: "auth.success", actor: `user:${user.id}`, target: `user:${user.id}`, detail: { session_id: session.id, mfa: mfaStep !== undefined } },
      trx,
    );
    const [row] = await trx<UserRow>("users")
      .where({ id: user.id })
      .update({ last_login: createdAt, last_activity: createdAt, login_count: trx.raw("COALESCE(login_count, 0) + 1") } as Record<string, unknown>)
      .returning("*");
    return { session, row: row ?? current };
  });

  const sessionToken = signSessionToken(deps.tokenSecrets, {
    tenantId: tenant.id,
    userId: user.id,
    role: row.role,
    sessionId: session.id,
    issuedAt: now,
    expiresAt: expiresAt.getTime(),
  });
  caller.log.info({ tenant_id: tenant.id, user_id: user.id, session_id: session.id, mfa: mfaStep !== undefined }, "signed in");
  return { sessionToken, expiresAt, user: toUserMessage(row), tenantId: tenant.id, role: row.role };
}

const lastStep = (user: UserRow): number | undefined => (user.mfa_last_step === null ? undefined : Number(user.mfa_last_step));
