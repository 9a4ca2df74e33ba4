import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCode } from "../src/auth/totp.js";
import { SecurityServiceClient } from "../src/gen/tenantmesh/v1/security.js";
import { TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { silentLogger } from "../src/log/index.js";
import { bearer, callUnary, startPortal, type Portal } from "../src/portal/index.js";
import { PortalClient } from "../src/portal/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * The settings a tenant's role allows, through the portal's API against a real control plane: the IP allowlist
 * (UpdateTenant's network_restrictions), the MFA requirement (SecurityService), and the operator's isolation
 * report. Each is the RPC the CLI calls, so the role rules are the control plane's.
 */
const PASSWORD = "Portal-settings-password-1";
let tcp: TestControlPlane;
let portal: Portal;
let tenants: TenantServiceClient;
let tenantId: string;
const slug = "settings-portal";

const client = (): PortalClient => new PortalClient(`http://127.0.0.1:${portal.port}`);

async function as(email: string): Promise<PortalClient> {
  const c = client();
  const res = await c.signIn(slug, email, PASSWORD);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return c;
}

beforeAll(async () => {
  tcp = await startTestControlPlane();
  tenants = new TenantServiceClient(tcp.address, credentials.createInsecure());
  const res = await callUnary(tenants, tenants.provisionTenant, {
    name: "Settings Portal", slug, planType: "professional", adminEmail: `admin@${slug}.example`, adminPassword: PASSWORD,
    billingInfo: undefined, billingCycle: "", idempotencyKey: "",
  }, bearer(tcp.adminToken), 60_000);
  tenantId = res.tenant!.id;
  portal = await startPortal({ controlPlaneAddress: tcp.address, host: "127.0.0.1", port: 0, logger: silentLogger, signInFailuresPerMinute: 1000 });
  const admin = await as(`admin@${slug}.example`);
  for (const role of ["manager", "viewer"]) {
    expect((await admin.post(`/api/tenants/${tenantId}/users`, { email: `${role}@${slug}.example`, password: PASSWORD, role })).status).toBe(200);
  }
});

afterAll(async () => {
  await portal?.close();
  tenants?.close();
  await tcp?.close();
});

describe("portal settings", () => {
  it("records what is done through the portal in the tenant's audit log, as the signed-in user", async () => {
    const admin = await as(`admin@${slug}.example`);
    const me = (await admin.get("/api/me")).body;
    const made = await admin.post(`/api/tenants/${tenantId}/users`, { email: `audited@${slug}.example`, password: PASSWORD, role: "user" });
    const security = new SecurityServiceClient(tcp.address, credentials.createInsecure());
    try {
      const { events } = await callUnary(security, security.listAuditEvents, { tenantId, pageSize: 1000, pageToken: "", action: "user.created" }, bearer(tcp.adminToken));
      expect(events.find((e) => e.target.includes(made.body.user.id))).toMatchObject({ actor: `user:${me.user.id}`, outcome: "success" });
    } finally {
      security.close();
    }
  });

  it("lets an admin set the IP allowlist, with the control plane's validation and role rules", async () => {
    const admin = await as(`admin@${slug}.example`);
    const saved = await admin.put(`/api/tenants/${tenantId}/network-restrictions`, { cidrs: ["10.0.0.0/8", "192.168.1.0/24"] });
    expect(saved.body.tenant.networkRestrictions).toEqual(["10.0.0.0/8", "192.168.1.0/24"]);
    const bad = await admin.put(`/api/tenants/${tenantId}/network-restrictions`, { cidrs: ["not-a-network"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("TM_ERR_INVALID_ARGUMENT");
    const manager = await as(`manager@${slug}.example`);
    expect((await manager.put(`/api/tenants/${tenantId}/network-restrictions`, { cidrs: [] })).status).toBe(403);
    expect((await admin.put(`/api/tenants/${tenantId}/network-restrictions`, { cidrs: [] })).body.tenant.networkRestrictions).toEqual([]);
  });

  it("shows the MFA requirement to roles that may read it, and lets an admin switch it on", async () => {
    const viewer = await as(`viewer@${slug}.example`);
    expect((await viewer.get(`/api/tenants/${tenantId}/security-policy`)).body).toEqual({ available: true, forbidden: true });
    const admin = await as(`admin@${slug}.example`);
    const before = await admin.get(`/api/tenants/${tenantId}/security-policy`);
    expect(before.body).toMatchObject({ available: true, policy: { mfaRequired: false } });
    const manager = await as(`manager@${slug}.example`);
    expect((await manager.put(`/api/tenants/${tenantId}/security-policy/mfa`, { required: true })).status).toBe(403);

    // SecurityService will not let an admin lock everyone out: the admin needs an authenticator first.
    const early = await admin.put(`/api/tenants/${tenantId}/security-policy/mfa`, { required: true });
    expect([early.status, early.body.error.code]).toEqual([409, "TM_ERR_FAILED_PRECONDITION"]);
    const { secret } = (await admin.post("/api/me/mfa/enroll")).body;
    expect((await admin.post("/api/me/mfa/confirm", { code: totpCode(secret, Date.now()) })).body.mfaEnabled).toBe(true);

    const on = await admin.put(`/api/tenants/${tenantId}/security-policy/mfa`, { required: true });
    expect(on.body.policy.mfaRequired).toBe(true);
    // The requirement is enforced by Authenticate: a user without an authenticator is told why.
    const refused = await client().signIn(slug, `viewer@${slug}.example`, PASSWORD);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/requires two-factor authentication/);
    expect((await admin.put(`/api/tenants/${tenantId}/security-policy/mfa`, { required: false })).body.policy.mfaRequired).toBe(false);
    expect((await client().signIn(slug, `viewer@${slug}.example`, PASSWORD)).status).toBe(200);
  });

  it("gives operators the isolation report with tenant names, and tenants nothing of it", async () => {
    const op = client();
    expect((await op.signInOperator(tcp.adminToken)).status).toBe(200);
    const report = await op.get("/api/operator/isolation");
    expect(report.status).toBe(200);
    if (report.body.available) expect(Array.isArray(report.body.tenants)).toBe(true);
    else expect(report.body.message).toMatch(/not available in this deployment/);
    const tenantUser = await as(`manager@${slug}.example`);
    expect((await tenantUser.get("/api/operator/isolation")).status).toBe(403);
  });
});
