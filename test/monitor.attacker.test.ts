import { status, type Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { MonitorServiceClient } from "../src/gen/tenantmesh/v1/monitor.js";
import type { ProvisionTenantResponse as Provisioned } from "../src/gen/tenantmesh/v1/tenant.js";
import { monitorClient, report, rpc, scriptedWindow } from "../src/monitor/testing.js";
import { bearer, failure, provision, tenantClient } from "../src/tenants/testing.js";
import { rpc as userRpc, userClient } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * Tenant A's credentials (its API key and its admin's session) against tenant B's monitor data: every read
 * of B is PERMISSION_DENIED, A's own reads never include B's rows, the cross-tenant views are operator-only,
 * and the proxies' metrics:write token can feed data in but read nothing.
 */
let tcp: TestControlPlane;
let client: MonitorServiceClient;
let a: Provisioned;
let b: Provisioned;
let aSession: string;
let serviceToken: string;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  client = monitorClient(tcp.address);
  const tenants = tenantClient(tcp.address);
  a = await provision(tenants, tcp.adminToken);
  b = await provision(tenants, tcp.adminToken);
  tenants.close();
  const users = userClient(tcp.address);
  aSession = (await userRpc(users, users.authenticate, { tenantSlug: a.tenant!.slug, email: a.adminUser!.email, password: a.adminPassword, totpCode: "" })).sessionToken;
  users.close();
  serviceToken = issueServiceToken(tcp.cp.secrets, "proxy", ["metrics:write", "tenants:watch"]);
  // Both tenants have traffic, a scaling event and an open alert
  const now = Date.now();
  await report(client, bearer(serviceToken), [
    {
      source: "p",
      tenants: [a, b].map((t) => scriptedWindow({ tenantId: t.tenant!.id, start: now - (now % 10_000) - 10_000, latenciesMs: [10, 20, 30] })),
      clusters: [],
    },
  ]);
  for (const t of [a, b]) {
    const tenant_id = t.tenant!.id;
    await tcp.cp.db.withTenant(tenant_id, async (trx) => {
      await trx("tenant_scaling_events").insert({ tenant_id, direction: "up", from_scale: 1, to_scale: 2, target_scale: 2, utilization: 0.9, reason: "test" });
      await trx("tenant_alerts").insert({ tenant_id, kind: "error_rate", severity: "warning", message: "test", value: 0.2, threshold: 0.05 });
    });
  }
});
afterAll(async () => {
  client.close();
  await tcp?.close();
});

const reads = (md: Metadata, tenantId: string): Record<string, () => Promise<unknown>> => ({
  GetTenantMetrics: () => rpc(client, client.getTenantMetrics, { tenantId, windowSeconds: 300, stepSeconds: 0 }, md),
  GetScalingState: () => rpc(client, client.getScalingState, { tenantId }, md),
  ListScalingEvents: () => rpc(client, client.listScalingEvents, { tenantId, pageSize: 10, pageToken: "" }, md),
  ListAlerts: () => rpc(client, client.listAlerts, { tenantId, includeCleared: true, pageSize: 10, pageToken: "" }, md),
});
const platformViews = (md: Metadata): Record<string, () => Promise<unknown>> => ({
  ListTenantMetrics: () => rpc(client, client.listTenantMetrics, { windowSeconds: 300 }, md),
  GetIsolationReport: () => rpc(client, client.getIsolationReport, { windowSeconds: 60, lookbackSeconds: 3_600 }, md),
});

describe.each([
  ["API key", () => a.apiKey],
  ["user session", () => aSession],
])("tenant A's %s", (_kind, token) => {
  it.each(["GetTenantMetrics", "GetScalingState", "ListScalingEvents", "ListAlerts"])("cannot %s of tenant B", async (name) => {
    const f = await failure(reads(bearer(token()), b.tenant!.id)[name]!());
    expect(f).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_PERMISSION_DENIED", details: "permission denied" });
  });

  it.each(["GetTenantMetrics", "GetScalingState", "ListScalingEvents", "ListAlerts"])("can %s of its own tenant, and sees only its own rows", async (name) => {
    const own = (await reads(bearer(token()), "")[name]!()) as Record<string, unknown>;
    const tenantIds = JSON.stringify(own).match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [];
    expect(tenantIds).not.toContain(b.tenant!.id);
  });

  it.each(["ListTenantMetrics", "GetIsolationReport"])("cannot %s (operator-only: every tenant)", async (name) => {
    expect((await failure(platformViews(bearer(token()))[name]!())).code).toBe(status.PERMISSION_DENIED);
  });

  it("cannot report metrics (the proxies' scope)", async () => {
    const f = await failure(report(client, bearer(token()), [{ source: "evil", tenants: [scriptedWindow({ tenantId: b.tenant!.id, start: Date.now(), latenciesMs: [1] })], clusters: [] }]));
    expect(f.code).toBe(status.PERMISSION_DENIED);
  });
});

describe("tenant A's own reads", () => {
  it("GetTenantMetrics of A counts only A's traffic", async () => {
    const m = await rpc(client, client.getTenantMetrics, { tenantId: "", windowSeconds: 300, stepSeconds: 0 }, bearer(a.apiKey));
    expect(m.tenantId).toBe(a.tenant!.id);
    expect(m.total?.requests).toBe("3");
  });

  it("ListAlerts without a tenant lists A's alerts only", async () => {
    const res = await rpc(client, client.listAlerts, { tenantId: "", includeCleared: true, pageSize: 10, pageToken: "" }, bearer(a.apiKey));
    expect(res.alerts.map((x) => x.tenantId)).toEqual([a.tenant!.id]);
  });
});

describe("the proxies' metrics:write service token", () => {
  it("feeds data in but reads nothing", async () => {
    for (const call of Object.values({ ...reads(bearer(serviceToken), a.tenant!.id), ...platformViews(bearer(serviceToken)) })) {
      expect((await failure(call())).code).toBe(status.PERMISSION_DENIED);
    }
  });

  it("a token without metrics:write cannot report", async () => {
    const watchOnly = issueServiceToken(tcp.cp.secrets, "watcher", ["tenants:watch"]);
    const f = await failure(report(client, bearer(watchOnly), [{ source: "p", tenants: [], clusters: [] }]));
    expect(f.code).toBe(status.PERMISSION_DENIED);
  });
});

describe("operators", () => {
  it("see every tenant in ListTenantMetrics and ListAlerts", async () => {
    const top = await rpc(client, client.listTenantMetrics, { windowSeconds: 300 }, bearer(tcp.adminToken));
    expect(top.tenants.map((t) => t.tenantId).sort()).toEqual([a.tenant!.id, b.tenant!.id].sort());
    const alerts = await rpc(client, client.listAlerts, { tenantId: "", includeCleared: false, pageSize: 10, pageToken: "" }, bearer(tcp.adminToken));
    expect(alerts.alerts).toHaveLength(2);
  });
});

