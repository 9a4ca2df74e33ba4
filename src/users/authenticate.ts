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
import { quotaExceeded, TenantMeshError } from "../errors/index.js";
import type { AuthenticateResponse } from "../gen/tenantmesh/v1/user.js";
import { findTenantBySlug, requireOwnTenantOnPublicCall, type Caller, type UsersDeps } from "./context.js";
import { countActiveSessions, insertSession } from "./sessions.js";
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

export async function authenticate(deps: UsersDeps, caller: Pick<Caller, "principal" | "peer" | "log">, input: AuthenticateInput): Promise<AuthenticateResponse> {
  const tenant = await findTenantBySlug(deps.db, input.tenantSlug);
  requireOwnTenantOnPublicCall(caller, tenant?.id);
  const user = tenant === undefined ? undefined : await deps.db.withTenant(tenant.id, (trx) => findUserByEmail(trx, input.email));
  // Password verification happens outside any transaction: 60 ms of scrypt must not hold a connection.
  const passwordOk = await verifyPassword(input.password, user?.password_hash ?? (await dummy()));
  if (tenant === undefined || user === undefined || !passwordOk) {
    caller.log.info({ tenant_known: tenant !== undefined }, "sign-in refused");
    throw invalidCredentials();
  }

  const now = deps.clock.now();
  let mfaStep: number | undefined;
  if (user.mfa_enabled === true && user.mfa_secret !== null) {
    if (input.totpCode === "") {
      throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a TOTP code is required: send totp_code from the authenticator app");
    }
    const step = verifyTotp(user.mfa_secret, input.totpCode, now, { lastUsedCounter: lastStep(user) });
    if (step === null) throw invalidCredentials();
    mfaStep = step;
  }
  if (tenant.status !== "active") {
    throw new TenantMeshError("TM_ERR_TENANT_INACTIVE", `the tenant is ${tenant.status}; sign-in is not possible`);
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
    const active = await countActiveSessions(trx, tenant.id, createdAt, limits.sessions_valid_after);
    if (active >= limits.concurrent_users) throw quotaExceeded("concurrent_users", limits.concurrent_users, active);
    const session = await insertSession(trx, { tenantId: tenant.id, userId: user.id, createdAt, expiresAt, clientAddress: caller.peer });
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
