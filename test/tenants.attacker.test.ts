import { status, type Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueServiceToken } from "../src/control-plane/index.js";
import { Tenant, TenantServiceService, type ProvisionTenantResponse, type TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { bearer, failure, provisionRequest, provision, rpc, tenantClient, watch } from "../src/tenants/testing.js";
import { rpc as userRpc, userClient } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * Tenant A's credentials against tenant B: every TenantService RPC is PERMISSION_DENIED and B is untouched;
 * looking B up by slug answers exactly as for a slug that does not exist. Service tokens get only their scope.
 */
let tcp: TestControlPlane;
let client: TenantServiceClient;
let users: UserServiceClient;
let a: ProvisionTenantResponse;
let b: ProvisionTenantResponse;
let aUserToken: string;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  client = tenantClient(tcp.address);
  users = userClient(tcp.address);
  a = await provision(client, tcp.adminToken);
  b = await provision(client, tcp.adminToken);
  const password = a.adminPassword;
  const session = await userRpc(users, users.authenticate, { tenantSlug: a.tenant?.slug ?? "", email: a.adminUser?.email ?? "", password, totpCode: "" });
  aUserToken = session.sessionToken;
});
afterAll(async () => {
  client.close();
  users.close();
  await tcp.close();
});

const rpcNames = [
  "ProvisionTenant",
  "GetTenant by id",
  "GetTenant by slug",
  "ListTenants",
  "UpdateTenant",
  "SuspendTenant",
  "ReactivateTenant",
  "CancelTenant",
  "CreateApiKey",
  "ListApiKeys",
  "RevokeApiKey",
  "WatchTenants",
];

/** Every TenantService call aimed at tenant B */
function callsAgainstB(md: Metadata): Record<string, () => Promise<unknown>> {
  const bId = b.tenant?.id ?? "";
  const bKey = b.apiKeyInfo?.keyId ?? "";
  return {
    ProvisionTenant: () => rpc(client, client.provisionTenant, provisionRequest(), md),
    "GetTenant by id": () => rpc(client, client.getTenant, { id: bId }, md),
    "GetTenant by slug": () => rpc(client, client.getTenant, { slug: b.tenant?.slug ?? "" }, md),
    ListTenants: () => rpc(client, client.listTenants, { pageSize: 10, pageToken: "", status: "", planType: "" }, md),
    UpdateTenant: () => rpc(client, client.updateTenant, { tenant: Tenant.fromPartial({ id: bId, name: "pwned" }), updateMask: ["name"] }, md),
    SuspendTenant: () => rpc(client, client.suspendTenant, { id: bId, reason: "" }, md),
    ReactivateTenant: () => rpc(client, client.reactivateTenant, { id: bId, reason: "" }, md),
    CancelTenant: () => rpc(client, client.cancelTenant, { id: bId, reason: "" }, md),
    CreateApiKey: () => rpc(client, client.createApiKey, { tenantId: bId, name: "backdoor", role: "admin", expiresAt: undefined }, md),
    ListApiKeys: () => rpc(client, client.listApiKeys, { tenantId: bId, includeRevoked: true }, md),
    RevokeApiKey: () => rpc(client, client.revokeApiKey, { tenantId: bId, keyId: bKey }, md),
    WatchTenants: async () => {
      const w = new Promise((resolve, reject) => {
        const call = client.watchTenants({ resumeFromVersion: "" }, md);
        call.on("data", resolve);
        call.on("error", reject);
      });
      return w;
    },
  };
}

describe.each([
  ["API key", () => a.apiKey],
  ["user session token", () => aUserToken],
])("tenant A's admin %s against tenant B", (_kind, token) => {
  it("covers every RPC of TenantService", () => {
    expect(Object.keys(callsAgainstB(bearer(token())))).toEqual(rpcNames);
    const methods = Object.values(TenantServiceService).map((m) => m.path.split("/").at(-1));
    expect(new Set(rpcNames.map((n) => n.split(" ")[0]))).toEqual(new Set(methods));
  });

  it.each(rpcNames)("%s is PERMISSION_DENIED", async (name) => {
    const callFn = callsAgainstB(bearer(token()))[name];
    expect(await failure(callFn?.() ?? Promise.resolve())).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_PERMISSION_DENIED" });
  });
});

describe("tenant B after the attack", () => {
  it("is unchanged: same name, active, its key alive, no key added", async () => {
    const op = bearer(tcp.adminToken);
    const bId = b.tenant?.id ?? "";
    const now = await rpc(client, client.getTenant, { id: bId }, op);
    expect(now).toMatchObject({ name: b.tenant?.name, status: "active" });
    const keys = await rpc(client, client.listApiKeys, { tenantId: bId, includeRevoked: true }, op);
    expect(keys.keys.map((k) => [k.keyId, k.revokedAt])).toEqual([[b.apiKeyInfo?.keyId, undefined]]);
  });

  it("cannot have its key revoked through A's own tenant either (RLS hides it: NOT_FOUND)", async () => {
    const f = await failure(rpc(client, client.revokeApiKey, { tenantId: "", keyId: b.apiKeyInfo?.keyId ?? "" }, bearer(a.apiKey)));
    expect(f).toMatchObject({ code: status.NOT_FOUND });
    expect((await rpc(client, client.getTenant, {}, bearer(b.apiKey))).id).toBe(b.tenant?.id);
  });
});

describe("GetTenant by slug", () => {
  it("never reveals whether another tenant exists: the same answer for B's slug and a slug nobody has", async () => {
    const md = bearer(a.apiKey);
    const existing = await failure(rpc(client, client.getTenant, { slug: b.tenant?.slug ?? "" }, md));
    const missing = await failure(rpc(client, client.getTenant, { slug: "no-such-tenant-anywhere" }, md));
    const malformed = await failure(rpc(client, client.getTenant, { slug: "NOT A SLUG" }, md));
    expect(missing).toEqual(existing);
    expect(malformed).toEqual(existing);
    expect(existing).toMatchObject({ code: status.PERMISSION_DENIED });
  });
});

describe("service tokens", () => {
  it("without tenants:watch cannot watch", async () => {
    const token = issueServiceToken(tcp.cp.secrets, "kyb-backend", ["usage:write", "metrics:write"]);
    const w = watch(client, token);
    expect(await w.finished()).toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("with tenants:watch can watch, but cannot call any tenant-admin RPC", async () => {
    const token = issueServiceToken(tcp.cp.secrets, "proxy-eu-1", ["tenants:watch"]);
    const w = watch(client, token);
    expect((await w.next()).snapshot).toBeDefined();
    w.cancel();
    const calls = callsAgainstB(bearer(token));
    for (const [name, callFn] of Object.entries(calls)) {
      if (name === "WatchTenants") continue;
      expect(await failure(callFn()), name).toMatchObject({ code: status.PERMISSION_DENIED });
    }
  });
});
