import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueServiceToken } from "../../src/control-plane/index.js";
import { TenantServiceClient, type ProvisionTenantRequest, type ProvisionTenantResponse } from "../../src/gen/tenantmesh/v1/tenant.js";
import { UserServiceClient, type AuthenticateRequest, type AuthenticateResponse } from "../../src/gen/tenantmesh/v1/user.js";
import { call, insecure, startTestControlPlane, type TestControlPlane } from "../../test/support/control-plane.js";
import { GrpcSessionVerifier } from "../session-verifier.js";
import { WatchDirectory } from "./watch.js";

/** The proxy's control-plane clients against the real control plane (tenants and users slices, PGlite) */
let cp: TestControlPlane;
let tenants: TenantServiceClient;
let dataDir: string;

beforeAll(async () => {
  cp = await startTestControlPlane();
  tenants = new TenantServiceClient(cp.address, insecure());
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-proxy-cp-"));
});

afterAll(async () => {
  tenants.close();
  await cp.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("against the real control plane", () => {
  it("the watch directory follows provisioning and suspension, and the verifier checks real sessions", async () => {
    const secrets = cp.cp.secrets;
    const directory = new WatchDirectory({
      address: cp.address,
      serviceToken: issueServiceToken(secrets, "proxy-test", ["tenants:watch"]),
      dataDir,
      backoff: { initialMs: 20, maxMs: 200 },
    }).start();
    const verifier = new GrpcSessionVerifier({ address: cp.address, serviceToken: issueServiceToken(secrets, "proxy-test", ["sessions:verify"]) });
    const users = new UserServiceClient(cp.address, insecure());
    try {
      await directory.whenSynced();
      const slug = `acme-${Date.now().toString(36)}`;
      const provisioned = await call<ProvisionTenantRequest, ProvisionTenantResponse>(tenants, tenants.provisionTenant, {
        name: "Acme",
        slug,
        planType: "professional",
        adminEmail: `admin@${slug}.example.test`,
        adminPassword: "",
        billingInfo: undefined,
        billingCycle: "",
        idempotencyKey: "",
      }, cp.auth(cp.adminToken));
      const id = provisioned.tenant!.id;
      const keyId = provisioned.apiKeyInfo!.keyId;
      await expect.poll(() => directory.tenant(id)?.status, { interval: 10, timeout: 2_000 }).toBe("active");
      expect(directory.apiKey(keyId)?.tenant.id).toBe(id);
      expect(directory.apiKey(keyId)?.key.secretHash).toMatch(/^[0-9a-f]{64}$/);

      const started = Date.now();
      await call(tenants, tenants.suspendTenant, { id, reason: "test" }, cp.auth(cp.adminToken));
      await expect.poll(() => directory.tenant(id)?.status, { interval: 5, timeout: 1_000 }).toBe("suspended");
      expect(Date.now() - started).toBeLessThan(1_000);

      await call(tenants, tenants.reactivateTenant, { id, reason: "test" }, cp.auth(cp.adminToken));
      await expect.poll(() => directory.tenant(id)?.status, { interval: 5, timeout: 1_000 }).toBe("active");
      const session = await call<AuthenticateRequest, AuthenticateResponse>(users, users.authenticate, { tenantSlug: slug, email: `admin@${slug}.example.test`, password: provisioned.adminPassword, totpCode: "" });
      expect(await verifier.verify(session.sessionToken)).toMatchObject({ tenantId: id, userId: session.user!.id });
      const tail = session.sessionToken.endsWith("xx") ? "yy" : "xx"; // a random token may already end in "xx"
      expect(await verifier.verify(`${session.sessionToken.slice(0, -2)}${tail}`)).toBeNull();
    } finally {
      users.close();
      verifier.close();
      await directory.close();
    }
  });
});
