import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, totpCode } from "../src/auth/index.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { bearer, failure, GOOD_PASSWORD, insertTestTenant, rpc, signedInUser, userClient, type TestTenant } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

// Aligned to a 30 s TOTP step boundary, so "advance 30 s" means "next step".
const clock = new ManualClock(Math.floor(Date.parse("2026-11-29T12:00:00Z") / 30_000) * 30_000);
let tcp: TestControlPlane;
let client: UserServiceClient;
let tenant: TestTenant;

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  client = userClient(tcp.address);
  tenant = await insertTestTenant(tcp.cp.db);
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

const login = (email: string, code = "") => rpc(client, client.authenticate, { tenantSlug: tenant.slug, email, password: GOOD_PASSWORD, totpCode: code });
const enroll = (token: string, userId = "") => rpc(client, client.enrollMfa, { tenantId: "", userId, code: "" }, bearer(token));
const confirm = (token: string, code: string, userId = "") => rpc(client, client.confirmMfa, { tenantId: "", userId, code }, bearer(token));
const disable = (token: string, code: string, userId = "") => rpc(client, client.disableMfa, { tenantId: "", userId, code }, bearer(token));

/** A signed-in user with MFA confirmed at the current step; the clock is then moved to the next step */
async function mfaUser(): Promise<{ email: string; userId: string; token: string; secret: string }> {
  const s = await signedInUser(tcp.cp.db, client, tenant);
  const { secret } = await enroll(s.token);
  await confirm(s.token, totpCode(secret, clock.now()));
  clock.advance(30_000);
  return { email: s.user.email, userId: s.user.id, token: s.token, secret };
}

describe("enrolment", () => {
  it("EnrollMfa returns the secret and an otpauth URI; MFA stays off until ConfirmMfa", async () => {
    const s = await signedInUser(tcp.cp.db, client, tenant);
    const res = await enroll(s.token);
    expect(res.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(res.otpauthUri).toMatch(/^otpauth:\/\/totp\/tenantmesh:/);
    expect(res.otpauthUri).toContain(`secret=${res.secret}`);
    await expect(login(s.user.email)).resolves.toBeDefined();
    const wrong = await failure(confirm(s.token, "000000" === totpCode(res.secret, clock.now()) ? "111111" : "000000"));
    expect(wrong).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(wrong.details).toContain("code");
    const on = await confirm(s.token, totpCode(res.secret, clock.now()));
    expect(on.mfaEnabled).toBe(true);
    expect((await failure(confirm(s.token, totpCode(res.secret, clock.now())))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(enroll(s.token))).code).toBe(status.FAILED_PRECONDITION);
    const stored = await tcp.cp.db.withTenant(tenant.id, (trx) => trx("users").where({ id: s.user.id }).first("mfa_last_step"));
    expect(Number(stored.mfa_last_step)).toBe(Math.floor(clock.now() / 30_000));
  });

  it("ConfirmMfa without a pending enrolment and DisableMfa when off are FAILED_PRECONDITION", async () => {
    const s = await signedInUser(tcp.cp.db, client, tenant);
    expect((await failure(confirm(s.token, "123456"))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(disable(s.token, "123456"))).code).toBe(status.FAILED_PRECONDITION);
  });

  it("a user cannot manage another user's MFA; an admin can; an operator must name the user", async () => {
    const a = await signedInUser(tcp.cp.db, client, tenant);
    const b = await signedInUser(tcp.cp.db, client, tenant);
    const admin = await signedInUser(tcp.cp.db, client, tenant, { role: "admin" });
    expect((await failure(enroll(a.token, b.user.id))).code).toBe(status.PERMISSION_DENIED);
    await expect(enroll(admin.token, b.user.id)).resolves.toBeDefined();
    const op = await failure(rpc(client, client.enrollMfa, { tenantId: tenant.id, userId: "", code: "" }, bearer(tcp.adminToken)));
    expect(op.code).toBe(status.INVALID_ARGUMENT);
  });
});

describe("sign-in with TOTP (ManualClock)", () => {
  it("asks for a code when MFA is on, with a message clients can prompt on", async () => {
    const u = await mfaUser();
    const f = await failure(login(u.email));
    expect(f).toMatchObject({ code: status.UNAUTHENTICATED, tmCode: "TM_ERR_UNAUTHENTICATED" });
    expect(f.details).toMatch(/TOTP code is required/);
  });

  it("accepts a valid code once: the same code again is a replay and refused", async () => {
    const u = await mfaUser();
    const code = totpCode(u.secret, clock.now());
    await expect(login(u.email, code)).resolves.toMatchObject({ sessionToken: expect.stringMatching(/^tms_/) });
    expect(await failure(login(u.email, code))).toMatchObject({ code: status.UNAUTHENTICATED, details: "invalid credentials" });
  });

  it("refuses the code of the step already used for confirmation", async () => {
    const s = await signedInUser(tcp.cp.db, client, tenant);
    const { secret } = await enroll(s.token);
    const code = totpCode(secret, clock.now());
    await confirm(s.token, code);
    expect((await failure(login(s.user.email, code))).details).toBe("invalid credentials");
  });

  it("accepts the previous step (drift window) but refuses codes older than the window, and future ones beyond it", async () => {
    const u = await mfaUser();
    clock.advance(10 * 60_000);
    const now = clock.now();
    expect((await failure(login(u.email, totpCode(u.secret, now - 60_000)))).details).toBe("invalid credentials");
    expect((await failure(login(u.email, totpCode(u.secret, now + 60_000)))).details).toBe("invalid credentials");
    await expect(login(u.email, totpCode(u.secret, now - 30_000))).resolves.toBeDefined();
    // A code of an earlier step than the last accepted one is a replay too.
    clock.advance(30_000);
    expect((await failure(login(u.email, totpCode(u.secret, now - 30_000)))).details).toBe("invalid credentials");
  });

  it("a wrong password with a right code is still just 'invalid credentials'", async () => {
    const u = await mfaUser();
    const f = await failure(rpc(client, client.authenticate, { tenantSlug: tenant.slug, email: u.email, password: "Wrong-password-1", totpCode: totpCode(u.secret, clock.now()) }));
    expect(f.details).toBe("invalid credentials");
  });
});

describe("DisableMfa", () => {
  it("on oneself needs a valid code; then sign-in needs none", async () => {
    const u = await mfaUser();
    expect((await failure(disable(u.token, ""))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(disable(u.token, "000000" === totpCode(u.secret, clock.now()) ? "111111" : "000000"))).code).toBe(status.INVALID_ARGUMENT);
    await expect(disable(u.token, totpCode(u.secret, clock.now()))).resolves.toMatchObject({ mfaEnabled: false });
    await expect(login(u.email)).resolves.toBeDefined();
  });

  it("an admin or an operator disables another user's MFA without a code", async () => {
    const admin = await signedInUser(tcp.cp.db, client, tenant, { role: "admin" });
    const u1 = await mfaUser();
    await expect(disable(admin.token, "", u1.userId)).resolves.toMatchObject({ mfaEnabled: false });
    const u2 = await mfaUser();
    const res = await rpc(client, client.disableMfa, { tenantId: tenant.id, userId: u2.userId, code: "" }, bearer(tcp.adminToken));
    expect(res.mfaEnabled).toBe(false);
    const plain = await signedInUser(tcp.cp.db, client, tenant);
    const u3 = await mfaUser();
    expect((await failure(disable(plain.token, "", u3.userId))).code).toBe(status.PERMISSION_DENIED);
  });
});
