import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashOneTimeToken, ManualClock } from "../src/auth/index.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { bearer, failure, GOOD_PASSWORD, insertTestTenant, insertTestUser, rpc, signedInUser, userClient, type TestTenant } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
const NEW_PASSWORD = "Brand-new-passphrase-42";
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

const request = (email: string, token?: string, slug = tenant.slug) =>
  rpc(client, client.requestPasswordReset, { tenantSlug: slug, email }, token === undefined ? undefined : bearer(token));
const reset = (email: string, resetToken: string, newPassword = NEW_PASSWORD) =>
  rpc(client, client.resetPassword, { tenantSlug: tenant.slug, email, resetToken, newPassword });
const login = (email: string, password: string) => rpc(client, client.authenticate, { tenantSlug: tenant.slug, email, password, totpCode: "" });
const outbox = (email: string) =>
  tcp.cp.db.withTenant(tenant.id, (trx) => trx("tenant_outbox").where({ recipient: email, kind: "password_reset" }).orderBy("created_at", "desc"));

/** The token as delivered: read from the outbox, the delivery channel */
async function deliveredToken(email: string): Promise<string> {
  const [row] = await outbox(email);
  return (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload).token as string;
}

describe("RequestPasswordReset", () => {
  it("writes the token to the outbox, stores only its SHA-256, and tells an anonymous caller nothing", async () => {
    const u = await insertTestUser(tcp.cp.db, tenant.id);
    const res = await request(u.email);
    expect(res.resetToken).toBe("");
    expect(res.expiresAt?.getTime()).toBe(clock.now() + 30 * 60_000);
    const token = await deliveredToken(u.email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await tcp.cp.db.withTenant(tenant.id, (trx) => trx("users").where({ id: u.id }).first("password_reset_token", "password_reset_expires"));
    expect(row.password_reset_token).toBe(hashOneTimeToken(token));
    expect(new Date(row.password_reset_expires).getTime()).toBe(clock.now() + 30 * 60_000);
  });

  it("answers an unknown email or tenant exactly like a known one, and writes nothing", async () => {
    const unknownUser = await request("nobody@example.test");
    const unknownTenant = await request("nobody@example.test", undefined, "no-such-tenant");
    for (const res of [unknownUser, unknownTenant]) expect(res).toEqual({ resetToken: "", expiresAt: new Date(clock.now() + 30 * 60_000) });
    expect(await outbox("nobody@example.test")).toHaveLength(0);
  });

  it("returns the token to an operator and to the tenant's admin, not to a plain user", async () => {
    const u = await insertTestUser(tcp.cp.db, tenant.id);
    const admin = await signedInUser(tcp.cp.db, client, tenant, { role: "admin" });
    const plain = await signedInUser(tcp.cp.db, client, tenant);
    expect((await request(u.email, tcp.adminToken)).resetToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    clock.advance(1); // outbox rows are read newest first
    expect((await request(u.email, admin.token)).resetToken).toBe(await deliveredToken(u.email));
    expect((await request(u.email, plain.token)).resetToken).toBe("");
  });
});

describe("ResetPassword", () => {
  it("sets the new password, is single-use, and revokes the user's sessions", async () => {
    const s = await signedInUser(tcp.cp.db, client, tenant);
    await request(s.user.email);
    const token = await deliveredToken(s.user.email);
    await expect(reset(s.user.email, token)).resolves.toEqual({});
    await expect(login(s.user.email, NEW_PASSWORD)).resolves.toBeDefined();
    expect((await failure(login(s.user.email, GOOD_PASSWORD))).details).toBe("invalid credentials");
    const old = await failure(rpc(client, client.getUser, { tenantId: "", id: s.user.id }, bearer(s.token)));
    expect(old.code).toBe(status.UNAUTHENTICATED);
    expect(await failure(reset(s.user.email, token, "Another-passphrase-43"))).toMatchObject({ code: status.UNAUTHENTICATED, details: "invalid or expired reset token" });
  });

  it("works until the expiry and not from it on (ManualClock)", async () => {
    const u = await insertTestUser(tcp.cp.db, tenant.id);
    await request(u.email);
    clock.advance(30 * 60_000 - 1);
    await expect(reset(u.email, await deliveredToken(u.email))).resolves.toEqual({});
    await request(u.email);
    clock.advance(30 * 60_000);
    const f = await failure(reset(u.email, await deliveredToken(u.email), "Third-passphrase-44"));
    expect(f).toMatchObject({ code: status.UNAUTHENTICATED, tmCode: "TM_ERR_UNAUTHENTICATED", details: "invalid or expired reset token" });
    await expect(login(u.email, NEW_PASSWORD)).resolves.toBeDefined();
  });

  it("accepts only the latest token", async () => {
    const u = await insertTestUser(tcp.cp.db, tenant.id);
    await request(u.email);
    const first = await deliveredToken(u.email);
    clock.advance(1);
    await request(u.email);
    expect((await failure(reset(u.email, first))).code).toBe(status.UNAUTHENTICATED);
    await expect(reset(u.email, await deliveredToken(u.email))).resolves.toEqual({});
  });

  it("refuses a wrong token, another user's token and an unknown account alike", async () => {
    const a = await insertTestUser(tcp.cp.db, tenant.id);
    const b = await insertTestUser(tcp.cp.db, tenant.id);
    await request(a.email);
    const tokenOfA = await deliveredToken(a.email);
    for (const [email, token] of [
      [a.email, "x".repeat(43)],
      [b.email, tokenOfA],
      ["nobody@example.test", tokenOfA],
    ] as const) {
      expect(await failure(reset(email, token))).toMatchObject({ code: status.UNAUTHENTICATED, details: "invalid or expired reset token" });
    }
  });

  it("checks the new password against the policy first (INVALID_ARGUMENT naming new_password)", async () => {
    const f = await failure(reset("x@example.test", "x".repeat(43), "short"));
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain("new_password");
  });
});
