import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/index.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { signServiceToken } from "../src/auth/index.js";
import {
  bearer,
  failure,
  GOOD_PASSWORD,
  insertTestTenant,
  insertTestUser,
  rpc,
  setTenantStatus,
  userClient,
  type TestTenant,
} from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
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

const login = (email: string, password = GOOD_PASSWORD, tenantSlug = tenant.slug) =>
  rpc(client, client.authenticate, { tenantSlug, email, password, totpCode: "" });
const whoCanRead = (token: string) => rpc(client, client.listUsers, { tenantId: "", pageSize: 1, pageToken: "", role: "", includeDeleted: false }, bearer(token));

describe("Authenticate", () => {
  it("returns a signed session token naming tenant, user and role, and tracks the login", async () => {
    const user = await insertTestUser(tcp.cp.db, tenant.id, { email: "Ann@Example.test", role: "manager" });
    const res = await login("ann@example.TEST");
    expect(res.sessionToken).toMatch(/^tms_/);
    expect(res.tenantId).toBe(tenant.id);
    expect(res.role).toBe("manager");
    expect(res.user?.id).toBe(user.id);
    expect(res.user?.loginCount).toBe(1);
    expect(res.user?.lastLogin?.getTime()).toBe(clock.now());
    expect(res.expiresAt?.getTime()).toBe(clock.now() + 60 * 60_000);
    expect(JSON.stringify(res.user)).not.toMatch(/scrypt|password/);
    await expect(whoCanRead(res.sessionToken)).resolves.toBeDefined();
    const again = await login("ann@example.test");
    expect(again.user?.loginCount).toBe(2);
  });

  it("answers the same 'invalid credentials' for a wrong password, an unknown user and an unknown tenant", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "bob@example.test" });
    const answers = await Promise.all([
      failure(login("bob@example.test", "Wrong-password-123")),
      failure(login("nobody@example.test")),
      failure(login("bob@example.test", GOOD_PASSWORD, "no-such-tenant")),
    ]);
    for (const a of answers) expect(a).toEqual({ code: status.UNAUTHENTICATED, tmCode: "TM_ERR_UNAUTHENTICATED", details: "invalid credentials" });
  });

  it("refuses a suspended tenant's user with TM_ERR_TENANT_INACTIVE, but only after a correct password", async () => {
    const t = await insertTestTenant(tcp.cp.db);
    await insertTestUser(tcp.cp.db, t.id, { email: "sue@example.test" });
    await setTenantStatus(tcp.cp.db, t.id, "suspended");
    const right = await failure(login("sue@example.test", GOOD_PASSWORD, t.slug));
    expect(right).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_TENANT_INACTIVE" });
    const wrong = await failure(login("sue@example.test", "Wrong-password-123", t.slug));
    expect(wrong).toMatchObject({ code: status.UNAUTHENTICATED, details: "invalid credentials" });
  });

  it("refuses a cancelled (soft-deleted) tenant's user the same way", async () => {
    const t = await insertTestTenant(tcp.cp.db);
    await insertTestUser(tcp.cp.db, t.id, { email: "cal@example.test" });
    await tcp.cp.db.asPlatform((trx) => trx("tenants").where({ id: t.id }).update({ status: "cancelled", deleted_at: new Date(clock.now()) }));
    expect(await failure(login("cal@example.test", GOOD_PASSWORD, t.slug))).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_TENANT_INACTIVE" });
    expect((await failure(login("cal@example.test", "Wrong-password-123", t.slug))).details).toBe("invalid credentials");
  });

  it("ends existing sessions of a tenant when it is suspended", async () => {
    const t = await insertTestTenant(tcp.cp.db);
    await insertTestUser(tcp.cp.db, t.id, { email: "tim@example.test" });
    const { sessionToken } = await login("tim@example.test", GOOD_PASSWORD, t.slug);
    await setTenantStatus(tcp.cp.db, t.id, "suspended");
    expect((await failure(whoCanRead(sessionToken))).code).toBe(status.UNAUTHENTICATED);
  });

  it("enforces concurrent_users and names the quota", async () => {
    const t = await insertTestTenant(tcp.cp.db, { concurrentUsers: 2 });
    await insertTestUser(tcp.cp.db, t.id, { email: "cu@example.test" });
    await login("cu@example.test", GOOD_PASSWORD, t.slug);
    const second = await login("cu@example.test", GOOD_PASSWORD, t.slug);
    const third = await failure(login("cu@example.test", GOOD_PASSWORD, t.slug));
    expect(third).toMatchObject({ code: status.RESOURCE_EXHAUSTED, tmCode: "TM_ERR_QUOTA_EXCEEDED" });
    expect(third.details).toContain("concurrent_users");
    expect(third.details).toContain("limit 2");
    // A logout frees a slot.
    await rpc(client, client.logout, {}, bearer(second.sessionToken));
    await expect(login("cu@example.test", GOOD_PASSWORD, t.slug)).resolves.toBeDefined();
  });

  it("refuses requests with missing fields as INVALID_ARGUMENT naming them", async () => {
    const f = await failure(rpc(client, client.authenticate, { tenantSlug: "", email: "", password: "", totpCode: "" }));
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain("tenant_slug");
  });
});

describe("ending sessions", () => {
  it("Logout ends the calling session at once, and only that one", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "lou@example.test" });
    const a = await login("lou@example.test");
    const b = await login("lou@example.test");
    await rpc(client, client.logout, {}, bearer(a.sessionToken));
    expect(await failure(whoCanRead(a.sessionToken))).toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(whoCanRead(b.sessionToken)).resolves.toBeDefined();
  });

  it("Logout without a session credential is refused", async () => {
    expect((await failure(rpc(client, client.logout, {}))).code).toBe(status.UNAUTHENTICATED);
    expect((await failure(rpc(client, client.logout, {}, bearer(tcp.adminToken)))).code).toBe(status.FAILED_PRECONDITION);
  });

  it("RevokeSessions for one user ends that user's sessions at once, not others'", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "adm@example.test", role: "admin" });
    await insertTestUser(tcp.cp.db, tenant.id, { email: "vic@example.test" });
    const admin = await login("adm@example.test");
    const victim = await login("vic@example.test");
    const res = await rpc(client, client.revokeSessions, { tenantId: "", userId: victim.user?.id ?? "" }, bearer(admin.sessionToken));
    expect(res.revokedCount).toBe(1);
    expect((await failure(whoCanRead(victim.sessionToken))).code).toBe(status.UNAUTHENTICATED);
    await expect(whoCanRead(admin.sessionToken)).resolves.toBeDefined();
  });

  it("RevokeSessions for the whole tenant ends every session and sets sessions_valid_after", async () => {
    const t = await insertTestTenant(tcp.cp.db);
    await insertTestUser(tcp.cp.db, t.id, { email: "a@example.test", role: "admin" });
    await insertTestUser(tcp.cp.db, t.id, { email: "b@example.test" });
    const a = await login("a@example.test", GOOD_PASSWORD, t.slug);
    const b = await login("b@example.test", GOOD_PASSWORD, t.slug);
    const res = await rpc(client, client.revokeSessions, { tenantId: t.id, userId: "" }, bearer(a.sessionToken));
    expect(res.revokedCount).toBe(2);
    for (const s of [a, b]) expect((await failure(whoCanRead(s.sessionToken))).code).toBe(status.UNAUTHENTICATED);
    const row = await tcp.cp.db.asPlatform((trx) => trx("tenants").where({ id: t.id }).first("sessions_valid_after"));
    expect(new Date(row.sessions_valid_after).getTime()).toBe(clock.now());
    // Signing in again afterwards works.
    const fresh = await login("b@example.test", GOOD_PASSWORD, t.slug);
    await expect(whoCanRead(fresh.sessionToken)).resolves.toBeDefined();
  });

  it("RevokeSessions needs sessions:revoke: a plain user is refused", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "pu@example.test" });
    const u = await login("pu@example.test");
    const f = await failure(rpc(client, client.revokeSessions, { tenantId: "", userId: "" }, bearer(u.sessionToken)));
    expect(f.code).toBe(status.PERMISSION_DENIED);
  });

  it("RevokeSessions for an unknown user is NOT_FOUND", async () => {
    const f = await failure(rpc(client, client.revokeSessions, { tenantId: tenant.id, userId: "00000000-0000-4000-8000-000000000000" }, bearer(tcp.adminToken)));
    expect(f.code).toBe(status.NOT_FOUND);
  });
});

describe("session lifetime and role changes (ManualClock)", () => {
  it("a session token stops working when it expires, and last_activity is written at most once a minute", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "exp@example.test" });
    const s = await login("exp@example.test");
    clock.advance(30_000);
    await whoCanRead(s.sessionToken);
    const activity = async () =>
      (await tcp.cp.db.withTenant(tenant.id, (trx) => trx("users").where({ id: s.user?.id }).first("last_activity"))).last_activity as Date;
    expect((await activity()).getTime()).toBe(clock.now() - 30_000);
    clock.advance(31_000);
    await whoCanRead(s.sessionToken);
    expect((await activity()).getTime()).toBe(clock.now());
    clock.advance(60 * 60_000);
    expect(await failure(whoCanRead(s.sessionToken))).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("a role change applies to the next call of an existing session", async () => {
    const u = await insertTestUser(tcp.cp.db, tenant.id, { email: "rc@example.test", role: "viewer" });
    const s = await login("rc@example.test");
    const create = () =>
      rpc(client, client.createUser, { tenantId: "", email: `x${Math.random()}@example.test`.replace("0.", ""), password: GOOD_PASSWORD, role: "viewer", permissions: [], tenantPermissions: undefined, timezone: "", language: "", preferences: undefined }, bearer(s.sessionToken));
    expect((await failure(create())).code).toBe(status.PERMISSION_DENIED);
    await tcp.cp.db.withTenant(tenant.id, (trx) => trx("users").where({ id: u.id }).update({ role: "manager" }));
    await expect(create()).resolves.toBeDefined();
  });

  it("a tampered token is UNAUTHENTICATED", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "tam@example.test" });
    const s = await login("tam@example.test");
    const tampered = `${s.sessionToken.slice(0, -2)}${s.sessionToken.endsWith("AA") ? "BB" : "AA"}`;
    expect((await failure(whoCanRead(tampered))).code).toBe(status.UNAUTHENTICATED);
  });
});

describe("VerifySession (for proxies)", () => {
  const service = () =>
    signServiceToken(Buffer.from(tcp.cp.secrets.tokenSecret), { name: "proxy-1", scopes: ["sessions:verify"], issuedAt: clock.now(), expiresAt: clock.now() + 3_600_000 });

  it("names the principal of a live session and refuses a revoked one", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "vs@example.test", role: "user" });
    const s = await login("vs@example.test");
    const res = await rpc(client, client.verifySession, { sessionToken: s.sessionToken }, bearer(service()));
    expect(res).toMatchObject({ tenantId: tenant.id, userId: s.user?.id, role: "user" });
    await rpc(client, client.logout, {}, bearer(s.sessionToken));
    const f = await failure(rpc(client, client.verifySession, { sessionToken: s.sessionToken }, bearer(service())));
    expect(f.code).toBe(status.UNAUTHENTICATED);
  });

  it("needs the sessions:verify scope: a user session cannot call it", async () => {
    await insertTestUser(tcp.cp.db, tenant.id, { email: "vs2@example.test", role: "admin" });
    const s = await login("vs2@example.test");
    const f = await failure(rpc(client, client.verifySession, { sessionToken: s.sessionToken }, bearer(s.sessionToken)));
    expect(f.code).toBe(status.PERMISSION_DENIED);
  });
});
