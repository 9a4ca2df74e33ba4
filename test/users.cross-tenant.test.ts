import { status, type Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/index.js";
import type { User, UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { toUserMessage } from "../src/users/index.js";
import { bearer, failure, GOOD_PASSWORD, insertTestTenant, newUserRequest, rpc, signedInUser, userClient, type TestTenant } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * The attacker: tenant A's admin, holding every permission in A, aims each UserService RPC at tenant B. Every
 * tenant-scoped RPC is PERMISSION_DENIED — the same answer as for a tenant that does not exist — and B is
 * left exactly as it was.
 */
const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
let tcp: TestControlPlane;
let client: UserServiceClient;
let a: TestTenant;
let b: TestTenant;
let attacker: Metadata;
let victim: { user: User; token: string };
const NO_SUCH_TENANT = "00000000-0000-4000-8000-0000000000aa";

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  client = userClient(tcp.address);
  a = await insertTestTenant(tcp.cp.db);
  b = await insertTestTenant(tcp.cp.db);
  attacker = bearer((await signedInUser(tcp.cp.db, client, a, { role: "admin" })).token);
  const v = await signedInUser(tcp.cp.db, client, b, { role: "admin" });
  victim = { user: toUserMessage(v.user), token: v.token };
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

/** Every tenant-scoped RPC aimed at `tenantId` (B, or a tenant that does not exist) */
const attacks = (tenantId: string): Record<string, () => Promise<unknown>> => ({
  CreateUser: () => rpc(client, client.createUser, newUserRequest({ tenantId, role: "admin" }), attacker),
  GetUser: () => rpc(client, client.getUser, { tenantId, id: victim.user.id }, attacker),
  ListUsers: () => rpc(client, client.listUsers, { tenantId, pageSize: 0, pageToken: "", role: "", includeDeleted: true }, attacker),
  UpdateUser: () => rpc(client, client.updateUser, { user: { ...victim.user, tenantId, role: "viewer" }, updateMask: ["role"] }, attacker),
  DeleteUser: () => rpc(client, client.deleteUser, { tenantId, id: victim.user.id }, attacker),
  RevokeSessions: () => rpc(client, client.revokeSessions, { tenantId, userId: "" }, attacker),
  EnrollMfa: () => rpc(client, client.enrollMfa, { tenantId, userId: victim.user.id, code: "" }, attacker),
  ConfirmMfa: () => rpc(client, client.confirmMfa, { tenantId, userId: victim.user.id, code: "123456" }, attacker),
  DisableMfa: () => rpc(client, client.disableMfa, { tenantId, userId: victim.user.id, code: "" }, attacker),
});

/** The public RPCs aimed at B by slug, with A's credential attached */
const publicAttacks = (slug: string): Record<string, () => Promise<unknown>> => ({
  Authenticate: () => rpc(client, client.authenticate, { tenantSlug: slug, email: victim.user.email, password: GOOD_PASSWORD, totpCode: "" }, attacker),
  RequestPasswordReset: () => rpc(client, client.requestPasswordReset, { tenantSlug: slug, email: victim.user.email }, attacker),
  ResetPassword: () =>
    rpc(client, client.resetPassword, { tenantSlug: slug, email: victim.user.email, resetToken: "x".repeat(43), newPassword: "Attacker-chosen-pw-1" }, attacker),
});

describe("tenant A's admin against tenant B", () => {
  it.each(Object.keys(attacks("")))("%s on tenant B is PERMISSION_DENIED, as for a tenant that does not exist", async (name) => {
    const onB = await failure(attacks(b.id)[name]!());
    const onNothing = await failure(attacks(NO_SUCH_TENANT)[name]!());
    expect(onB).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_PERMISSION_DENIED" });
    expect(onNothing).toEqual(onB);
  });

  it.each(Object.keys(publicAttacks("")))("%s naming B's slug with A's credential is PERMISSION_DENIED, as for an unknown slug", async (name) => {
    const onB = await failure(publicAttacks(b.slug)[name]!());
    const onNothing = await failure(publicAttacks("no-such-tenant")[name]!());
    expect(onB).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_PERMISSION_DENIED" });
    expect(onNothing).toEqual(onB);
  });

  it("VerifySession is refused to a user session (it needs the sessions:verify service scope)", async () => {
    const f = await failure(rpc(client, client.verifySession, { sessionToken: victim.token }, attacker));
    expect(f.code).toBe(status.PERMISSION_DENIED);
  });

  it("B's user id under A's own tenant is simply not found (row-level security)", async () => {
    const f = await failure(rpc(client, client.getUser, { tenantId: "", id: victim.user.id }, attacker));
    expect(f.code).toBe(status.NOT_FOUND);
  });

  it("Logout ends only the caller's own session", async () => {
    const own = await signedInUser(tcp.cp.db, client, a, { role: "admin" });
    await rpc(client, client.logout, {}, bearer(own.token));
    await expect(rpc(client, client.getUser, { tenantId: "", id: victim.user.id }, bearer(victim.token))).resolves.toBeDefined();
  });

  it("leaves B untouched: its admin unchanged, signed in, without MFA, and no user added", async () => {
    for (const attack of [...Object.values(attacks(b.id)), ...Object.values(publicAttacks(b.slug))]) await attack().catch(() => undefined);
    const now = await rpc(client, client.getUser, { tenantId: "", id: victim.user.id }, bearer(victim.token));
    expect(now).toMatchObject({ role: "admin", mfaEnabled: false, deletedAt: undefined });
    const list = await rpc(client, client.listUsers, { tenantId: "", pageSize: 0, pageToken: "", role: "", includeDeleted: true }, bearer(victim.token));
    expect(list.users.map((u) => u.id)).toEqual([victim.user.id]);
    const pending = await tcp.cp.db.withTenant(b.id, (trx) => trx("users").where({ id: victim.user.id }).first("mfa_secret", "password_reset_token"));
    expect(pending).toEqual({ mfa_secret: null, password_reset_token: null });
  });

  it("an operator may act on B", async () => {
    const res = await rpc(client, client.listUsers, { tenantId: b.id, pageSize: 0, pageToken: "", role: "", includeDeleted: false }, bearer(tcp.adminToken));
    expect(res.users).toHaveLength(1);
  });
});
