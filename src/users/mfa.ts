/**
 * RFC 6238 TOTP for users: EnrollMfa stores a fresh secret (MFA still off) and shows it once; ConfirmMfa turns
 * MFA on after a valid code proves the authenticator app holds the secret; DisableMfa turns it off.
 *
 * Who: a user on themself, or a holder of users:admin (an admin, an operator) on others. Disabling one's own
 * MFA needs a current code, so a stolen session alone cannot strip the second factor; an admin or operator may
 * disable another user's MFA without one (the recovery path for a lost phone). Every accepted code moves
 * users.mfa_last_step forward, so no code is accepted twice.
 */
import { generateTotpSecret, otpauthUri, verifyTotp } from "../auth/index.js";
import { authorize } from "../authz/index.js";
import type { Tx } from "../db/index.js";
import { invalidArgument, notFound, TenantMeshError } from "../errors/index.js";
import type { EnrollMfaResponse, User } from "../gen/tenantmesh/v1/user.js";
import { tenantOf, type Caller, type UsersDeps } from "./context.js";
import { selfUserId } from "./rules.js";
import { findUserById, setUserColumns, toUserMessage, type UserRow } from "./store.js";
import { fieldContext } from "../security/fields.js";
import { mfaRequired } from "../security/policy-store.js";

/** The stored secret, opened with the tenant's key (legacy plaintext secrets pass as they are) */
async function openSecret(deps: UsersDeps, trx: Tx, tenantId: string, user: UserRow & { mfa_secret: string }): Promise<string> {
  return (await deps.fields.forTenant(tenantId, trx)).open(user.mfa_secret, mfaSecretContext(user.id));
}

/**
 * The encryption context of a user's stored TOTP secret (src/security): the secret is sealed with the
 * tenant's own key and opens only as this user's mfa_secret, in this tenant.
 */
export const mfaSecretContext = (userId: string): string => fieldContext("users", userId, "mfa_secret");

/** The issuer shown in authenticator apps */
export const TOTP_ISSUER = "tenantmesh";

const precondition = (message: string): TenantMeshError => new TenantMeshError("TM_ERR_FAILED_PRECONDITION", message);
const badCode = (): TenantMeshError => invalidArgument([{ field: "code", description: "is not a valid, unused TOTP code" }]);

/** The target user (empty user_id: the calling user) and whether the caller is that user */
function target(caller: Caller, userId: string): { userId: string; self: boolean } {
  const tenantId = tenantOf(caller);
  const me = selfUserId(caller.principal);
  const id = userId === "" ? me : userId;
  if (id === undefined) throw invalidArgument([{ field: "user_id", description: "is required unless a user session calls" }]);
  const self = id === me;
  if (!self) authorize(caller.principal, "users:admin", tenantId);
  return { userId: id, self };
}

async function liveUser(trx: Tx, id: string): Promise<UserRow> {
  const row = await findUserById(trx, id, { forUpdate: true });
  if (row === undefined) throw notFound("user");
  return row;
}

/** The matched time step of `code`, refusing replays; INVALID_ARGUMENT for a wrong, expired or used code */
function acceptCode(deps: UsersDeps, secret: string, code: string, user: UserRow): number {
  const last = user.mfa_last_step === null ? undefined : Number(user.mfa_last_step);
  const step = verifyTotp(secret, code, deps.clock.now(), last === undefined ? {} : { lastUsedCounter: last });
  if (step === null) throw badCode();
  return step;
}

export async function enrollMfa(deps: UsersDeps, caller: Caller, userId: string): Promise<EnrollMfaResponse> {
  const t = target(caller, userId);
  const secret = generateTotpSecret();
  const email = await caller.inTenant(async (trx) => {
    const user = await liveUser(trx, t.userId);
    if (user.mfa_enabled === true) throw precondition("MFA is already on; disable it before enrolling a new authenticator");
    // A new secret starts a new step history: steps of an abandoned secret say nothing about this one.
    const sealed = (await deps.fields.forTenant(tenantOf(caller), trx)).seal(secret, mfaSecretContext(user.id));
    await setUserColumns(trx, user.id, { mfa_secret: sealed, mfa_enabled: false, mfa_last_step: null });
    await caller.audit({ action: "user.mfa_enrolled", target: `user:${user.id}`, detail: { by_self: t.self } }, trx);
    return user.email;
  });
  caller.log.info({ user_id: t.userId }, "mfa enrollment started");
  return { secret, otpauthUri: otpauthUri({ issuer: TOTP_ISSUER, account: email, secret }) };
}

export async function confirmMfa(deps: UsersDeps, caller: Caller, userId: string, code: string): Promise<User> {
  const t = target(caller, userId);
  const row = await caller.inTenant(async (trx) => {
    const user = await liveUser(trx, t.userId);
    if (user.mfa_enabled === true) throw precondition("MFA is already on");
    if (user.mfa_secret === null) throw precondition("no MFA enrollment is pending; call EnrollMfa first");
    const step = acceptCode(deps, await openSecret(deps, trx, tenantOf(caller), { ...user, mfa_secret: user.mfa_secret }), code, user);
    await setUserColumns(trx, user.id, { mfa_enabled: true, mfa_last_step: step });
    await caller.audit({ action: "user.mfa_enabled", target: `user:${user.id}`, detail: { by_self: t.self } }, trx);
    return { ...user, mfa_enabled: true };
  });
  caller.log.info({ user_id: t.userId }, "mfa enabled");
  return toUserMessage(row);
}

export async function disableMfa(deps: UsersDeps, caller: Caller, userId: string, code: string): Promise<User> {
  const t = target(caller, userId);
  const row = await caller.inTenant(async (trx) => {
    const user = await liveUser(trx, t.userId);
    if (user.mfa_enabled !== true || user.mfa_secret === null) throw precondition("MFA is not on");
    // Under a policy requiring MFA a user may not drop their own second factor (an admin still may, to recover).
    if (t.self && (await mfaRequired(trx, tenantOf(caller)))) throw precondition("the tenant's security policy requires MFA");
    const values: Record<string, unknown> = { mfa_enabled: false, mfa_secret: null };
    if (t.self) {
      if (code === "") throw invalidArgument([{ field: "code", description: "is required to disable your own MFA" }]);
      values.mfa_last_step = acceptCode(deps, await openSecret(deps, trx, tenantOf(caller), { ...user, mfa_secret: user.mfa_secret }), code, user);
    }
    await setUserColumns(trx, user.id, values);
    await caller.audit({ action: "user.mfa_disabled", target: `user:${user.id}`, essential: true, detail: { by_self: t.self } }, trx);
    return { ...user, mfa_enabled: false };
  });
  caller.log.info({ user_id: t.userId, by_self: t.self }, "mfa disabled");
  return toUserMessage(row);
}
