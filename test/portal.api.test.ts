import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortalServiceClient } from "../src/gen/tenantmesh/v1/portal.js";
import { TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { totpCode } from "../src/auth/totp.js";
import { silentLogger } from "../src/log/index.js";
import { bearer, callUnary, RpcError, startPortal, type Portal } from "../src/portal/index.js";
import { PortalClient } from "../src/portal/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * PortalService and the portal's JSON API against a real control plane (PGlite, or PostgreSQL with
 * DATABASE_URL): who may read which dashboard, what the sections say, and the web API's session, CSRF and
 * sign-out rules. The browser suite (portal.browser.test.ts) drives the same API through the pages.
 */
const PASSWORD = "Portal-test-password-1";
let tcp: TestControlPlane;
let portal: Portal;
let tenants: TenantServiceClient;
let dashboards: PortalServiceClient;

interface Provisioned {
  id: string;
  slug: string;
  adminEmail: string;
  apiKey: string;
}

async function provision(slug: string, plan = "professional"): Promise<Provisioned> {
  const res = await callUnary(tenants, tenants.provisionTenant, {
    name: `Tenant ${slug}`, slug, planType: plan, adminEmail: `admin@${slug}.example`, adminPassword: PASSWORD,
    billingInfo: undefined, billingCycle: "", idempotencyKey: "",
  }, bearer(tcp.adminToken), 60_000);
  return { id: res.tenant!.id, slug, adminEmail: `admin@${slug}.example`, apiKey: res.apiKey };
}

async function signedIn(t: Provisioned, email = t.adminEmail): Promise<PortalClient> {
  const c = new PortalClient(`http://127.0.0.1:${portal.port}`);
  const res = await c.signIn(t.slug, email, PASSWORD);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return c;
}

const rpcFailure = (p: Promise<unknown>): Promise<RpcError> => p.then(() => { throw new Error("expected a failure"); }, (e: RpcError) => e);

let acme: Provisioned;
let globex: Provisioned;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  tenants = new TenantServiceClient(tcp.address, (await import("@grpc/grpc-js")).credentials.createInsecure());
  dashboards = new PortalServiceClient(tcp.address, (await import("@grpc/grpc-js")).credentials.createInsecure());
  acme = await provision("acme-portal");
  globex = await provision("globex-portal", "basic");
  portal = await startPortal({ controlPlaneAddress: tcp.address, host: "127.0.0.1", port: 0, logger: silentLogger, signInFailuresPerMinute: 1000 });
});

afterAll(async () => {
  await portal?.close();
  tenants?.close();
  dashboards?.close();
  await tcp?.close();
});

describe("PortalService.GetTenantDashboard", () => {
  it("gives a tenant's own principals and operators the seed's dashboard, with every section's state", async () => {
    const own = await callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: acme.id, window: "", view: "" }, bearer(acme.apiKey));
    expect(own.tenant?.slug).toBe("acme-portal");
    expect(own.analytics?.userMetrics).toMatchObject({ users_total: 1, users_admin: 1, api_keys_active: 1 });
    expect(own.usage).toContainEqual(expect.objectContaining({ resourceType: "users", used: 1, limit: own.tenant!.maxUsers }));
    const states = Object.fromEntries(own.sections.map((s) => [s.section, s.state]));
    expect(states).toMatchObject({ tenant: "ok", users: "ok", keys: "ok", usage: "ok" });
    expect(own.usage.map((u) => u.resourceType)).toEqual(expect.arrayContaining(["users", "concurrent_users", "businesses", "api_calls", "compute", "storage"]));
    for (const s of own.sections.filter((x) => x.state === "unavailable")) expect(s.message).toMatch(/not available in this deployment/);

    const asOperator = await callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: globex.id, window: "week", view: "summary" }, bearer(tcp.adminToken));
    expect(asOperator.tenant?.id).toBe(globex.id);
  });

  it("refuses another tenant's principals exactly as for a tenant that does not exist", async () => {
    const other = await rpcFailure(callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: globex.id, window: "", view: "" }, bearer(acme.apiKey)));
    const none = await rpcFailure(callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: "00000000-0000-4000-8000-000000000000", window: "", view: "" }, bearer(acme.apiKey)));
    expect(other.grpcCode).toBe(status.PERMISSION_DENIED);
    expect([none.grpcCode, none.message]).toEqual([other.grpcCode, other.message]);
    const anonymous = await rpcFailure(callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: acme.id, window: "", view: "" }, new (await import("@grpc/grpc-js")).Metadata()));
    expect(anonymous.grpcCode).toBe(status.UNAUTHENTICATED);
  });

  it("validates the window and needs an operator to name the tenant", async () => {
    const badWindow = await rpcFailure(callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: acme.id, window: "year", view: "" }, bearer(tcp.adminToken)));
    expect(badWindow.code).toBe("TM_ERR_INVALID_ARGUMENT");
    const noTenant = await rpcFailure(callUnary(dashboards, dashboards.getTenantDashboard, { tenantId: "", window: "", view: "" }, bearer(tcp.adminToken)));
    expect(noTenant.code).toBe("TM_ERR_INVALID_ARGUMENT");
  });

  it("reports a section the caller's role may not read as forbidden, not as empty", async () => {
    const admin = await signedIn(acme);
    const created = await admin.post(`/api/tenants/${acme.id}/users`, { email: "viewer@acme-portal.example", password: PASSWORD, role: "viewer" });
    expect(created.status).toBe(200);
    const viewer = await signedIn(acme, "viewer@acme-portal.example");
    const d = await viewer.get(`/api/tenants/${acme.id}/dashboard`);
    expect(d.status).toBe(200);
    expect(d.body.sections).toContainEqual({ section: "keys", state: "forbidden", message: "your role may not read this" });
    expect(d.body.analytics.userMetrics.api_keys_active).toBeUndefined();
  });
});

describe("portal web API", () => {
  it("signs in with an HttpOnly, SameSite=Strict cookie and never hands the credential to the page", async () => {
    const c = new PortalClient(`http://127.0.0.1:${portal.port}`);
    const res = await c.signIn(acme.slug, acme.adminEmail, PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^tm_portal=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const me = await c.get("/api/me");
    expect(me.body).toMatchObject({ kind: "user", user: { email: acme.adminEmail, role: "admin" }, tenant: { id: acme.id, slug: acme.slug } });
    expect(JSON.stringify(me.body)).not.toMatch(/tms_|tm_[a-z0-9]/);
    expect(me.headers.get("cache-control")).toBe("no-store");
    expect(me.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("answers wrong credentials and a suspended tenant with clear messages", async () => {
    const c = new PortalClient(`http://127.0.0.1:${portal.port}`);
    const wrong = await c.signIn(acme.slug, acme.adminEmail, "not-the-password");
    expect([wrong.status, wrong.body.error.message]).toEqual([401, "Wrong tenant, email, password or code."]);
    const unknown = await c.signIn("no-such-tenant", acme.adminEmail, PASSWORD);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);

    const t = await provision("suspended-portal");
    await callUnary(tenants, tenants.suspendTenant, { id: t.id, reason: "test" }, bearer(tcp.adminToken));
    const suspended = await c.signIn(t.slug, t.adminEmail, PASSWORD);
    expect(suspended.status).toBe(403);
    expect(suspended.body.error.message).toBe("This tenant is suspended: sign-in is not possible. Contact your platform operator.");
  });

  it("asks for the TOTP code once the account has MFA, enrolled through the portal", async () => {
    const t = await provision("mfa-portal");
    const c = await signedIn(t);
    const enrolled = await c.post("/api/me/mfa/enroll");
    expect(enrolled.body.secret).toMatch(/^[A-Z2-7]+$/);
    expect((await c.post("/api/me/mfa/confirm", { code: totpCode(enrolled.body.secret, Date.now()) })).body).toEqual({ mfaEnabled: true });
    expect((await c.del("/api/session")).body).toEqual({ signedOut: true });

    const again = new PortalClient(c.baseUrl);
    const first = await again.signIn(t.slug, t.adminEmail, PASSWORD);
    expect([first.status, first.body.totpRequired]).toEqual([401, true]);
    const wrongCode = await again.signIn(t.slug, t.adminEmail, PASSWORD, "000000");
    expect(wrongCode.body.error.message).toBe("Wrong tenant, email, password or code.");
    expect((await again.signIn(t.slug, t.adminEmail, PASSWORD, totpCode(enrolled.body.secret, Date.now() + 30_000))).status).toBe(200);
  });

  it("refuses writes without the session's CSRF token or from another origin", async () => {
    const c = await signedIn(acme);
    const noCsrf = await c.request("POST", `/api/tenants/${acme.id}/keys`, { name: "x", role: "viewer" }, { "x-csrf-token": "" });
    expect(noCsrf.status).toBe(403);
    const foreign = await c.request("POST", `/api/tenants/${acme.id}/keys`, { name: "x", role: "viewer" }, { origin: "https://evil.example" });
    expect([foreign.status, foreign.body.error.message]).toEqual([403, "cross-origin request refused"]);
    const keys = await c.get(`/api/tenants/${acme.id}/keys`);
    expect(keys.body.keys.map((k: { name: string }) => k.name)).not.toContain("x");
  });

  it("creates a key whose secret is returned once, lists it without a secret, and revokes it", async () => {
    const c = await signedIn(acme);
    const created = await c.post(`/api/tenants/${acme.id}/keys`, { name: "ci", role: "user", expiresInDays: 30 });
    expect(created.status).toBe(200);
    expect(created.body.apiKey).toMatch(/^tm_/);
    const listed = await c.get(`/api/tenants/${acme.id}/keys`);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.apiKey);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.apiKey.split("_").at(-1));
    const revoked = await c.del(`/api/tenants/${acme.id}/keys/${created.body.key.keyId}`);
    expect(revoked.body.key.revokedAt).not.toBeNull();
    const rejected = await rpcFailure(callUnary(tenants, tenants.getTenant, { id: acme.id }, bearer(created.body.apiKey)));
    expect(rejected.code).toBe("TM_ERR_UNAUTHENTICATED");
  });

  it("changes a user's role through UpdateUser and refuses a tenant URL that is not the caller's", async () => {
    const c = await signedIn(acme);
    const made = await c.post(`/api/tenants/${acme.id}/users`, { email: "role@acme-portal.example", password: PASSWORD, role: "user" });
    const changed = await c.patch(`/api/tenants/${acme.id}/users/${made.body.user.id}`, { role: "manager" });
    expect(changed.body.user.role).toBe("manager");
    for (const path of ["dashboard", "users", "keys", "settings"]) {
      const tampered = await c.get(`/api/tenants/${globex.id}/${path}`);
      expect(tampered.status, path).toBe(403);
      expect(JSON.stringify(tampered.body)).not.toContain("globex");
    }
  });

  it("records a plan change request for operators, who apply the plan and then approve", async () => {
    const admin = await signedIn(globex);
    const asked = await admin.post(`/api/tenants/${globex.id}/plan-requests`, { planType: "professional", reason: "more API calls" });
    expect(asked.body.request).toMatchObject({ currentPlan: "basic", requestedPlan: "professional", status: "pending" });
    expect((await admin.post(`/api/tenants/${globex.id}/plan-requests`, { planType: "enterprise", reason: "" })).status).toBe(409);

    const op = new PortalClient(`http://127.0.0.1:${portal.port}`);
    expect((await op.signInOperator("wrong-token-wrong-token-wrong")).status).toBe(401);
    expect((await op.signInOperator(tcp.adminToken)).status).toBe(200);
    const pending = await op.get("/api/operator/plan-requests");
    expect(pending.body.requests).toHaveLength(1);
    const approved = await op.post(`/api/operator/plan-requests/${asked.body.request.id}`, { tenantId: globex.id, approve: true, note: "ok" });
    expect(approved.body.request).toMatchObject({ status: "approved", resolvedBy: "operator" });
    expect((await admin.get(`/api/tenants/${globex.id}/settings`)).body.tenant.planType).toBe("professional");
    expect((await admin.get("/api/operator/tenants")).status).toBe(403);
  });

  it("ends the portal session of a suspended tenant's admin at the next call", async () => {
    const t = await provision("soon-suspended");
    const admin = await signedIn(t);
    const op = new PortalClient(`http://127.0.0.1:${portal.port}`);
    await op.signInOperator(tcp.adminToken);
    const overview = await op.get("/api/operator/tenants");
    expect(overview.body.tenants.find((r: { tenant: { slug: string } }) => r.tenant.slug === t.slug)).toMatchObject({ health: "ok" });
    expect((await op.post(`/api/operator/tenants/${t.id}/suspend`, { reason: "unpaid" })).body.tenant.status).toBe("suspended");
    const after = await admin.get(`/api/tenants/${t.id}/dashboard`);
    expect(after.status).toBe(401);
    expect(after.body.signedOut).toBe(true);
    expect(after.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect((await admin.get("/api/me")).status).toBe(401);

    expect((await op.post(`/api/operator/tenants/${t.id}/reactivate`, { reason: "paid" })).body.tenant.status).toBe("active");
    expect((await admin.signIn(t.slug, t.adminEmail, PASSWORD)).status).toBe(200);
  });

  it("provisions a tenant for an operator, with the admin password and first key shown once", async () => {
    const op = new PortalClient(`http://127.0.0.1:${portal.port}`);
    await op.signInOperator(tcp.adminToken);
    const made = await op.post("/api/operator/tenants", { name: "Initech", slug: "initech-portal", planType: "basic", adminEmail: "admin@initech.example" });
    expect(made.body).toMatchObject({ tenant: { slug: "initech-portal", status: "active" }, adminEmail: "admin@initech.example", replayed: false });
    expect(made.body.adminPassword.length).toBeGreaterThanOrEqual(16);
    expect(made.body.apiKey).toMatch(/^tm_/);
    const listed = await op.get("/api/operator/tenants");
    expect(JSON.stringify(listed.body)).not.toContain(made.body.apiKey);
    expect((await new PortalClient(op.baseUrl).signIn("initech-portal", "admin@initech.example", made.body.adminPassword)).status).toBe(200);
  });
});
