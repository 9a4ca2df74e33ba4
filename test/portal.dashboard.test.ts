import { credentials, Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoServiceClient } from "../src/gen/tenantmesh/kyb/v1/echo.js";
import { TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { ClientPool } from "../src/portal/client-pool.js";
import { bearer, callUnary, composeDashboard, notInThisBuild, type DashboardSource } from "../src/portal/index.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * How GetTenantDashboard composes its sections: a service missing from the build or from the deployment is
 * "unavailable", a refused read "forbidden", a failure "error" — each for that source's sections only, and a
 * source that fails half-way leaves nothing half-written. Against a real control plane (for GetTenant).
 */
let tcp: TestControlPlane;
let pool: ClientPool;
let tenantId: string;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  const tenants = new TenantServiceClient(tcp.address, credentials.createInsecure());
  const res = await callUnary(tenants, tenants.provisionTenant, {
    name: "Compose", slug: "compose-portal", planType: "basic", adminEmail: "admin@compose.example", adminPassword: "",
    billingInfo: undefined, billingCycle: "", idempotencyKey: "",
  }, bearer(tcp.adminToken), 60_000);
  tenants.close();
  tenantId = res.tenant!.id;
  pool = new ClientPool(tcp.address);
});
afterAll(async () => {
  pool?.close();
  await tcp?.close();
});

const compose = (sources: DashboardSource[], metadata: Metadata = bearer(tcp.adminToken)) =>
  composeDashboard({ tenantId, window: "hour", view: "full", now: new Date(), metadata, client: (c) => pool.get(c), sources });

const source = (service: string, fill: DashboardSource["fill"], sections: DashboardSource["sections"] = ["costs"]): DashboardSource => ({
  service, sections, views: ["full"], fill,
});

describe("dashboard composition", () => {
  it("reports a service missing from the build or from the deployment as unavailable, naming it", async () => {
    const unimplemented = source("EchoService", async (ctx) => {
      const echo = ctx.client(EchoServiceClient);
      // The control plane does not serve the KYB echo service: grpc-js answers UNIMPLEMENTED.
      await callUnary(echo, echo.unary, { message: "", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "" }, ctx.metadata);
    }, ["compliance"]);
    const d = await compose([notInThisBuild("BillingService", ["costs", "invoices"]), unimplemented]);
    expect(d.sections).toEqual([
      { section: "tenant", state: "ok", message: "" },
      { section: "costs", state: "unavailable", message: "BillingService is not available in this deployment" },
      { section: "invoices", state: "unavailable", message: "BillingService is not available in this deployment" },
      { section: "compliance", state: "unavailable", message: "EchoService is not available in this deployment" },
    ]);
    expect([d.costs, d.invoices, d.compliance]).toEqual([undefined, [], []]);
  });

  it("keeps a failing source's half-written output out, and the other sources' in", async () => {
    const half = source("Half", async (_ctx, out) => {
      out.alerts.push({ id: "made-up", kind: "x", severity: "critical", message: "must not show", raisedAt: undefined, clearedAt: undefined });
      throw new Error("boom");
    }, ["alerts"]);
    const good = source("Good", async (_ctx, out) => {
      out.recommendations.push({ category: "cost", title: "t", reason: "r", action: "a" });
    }, ["recommendations"]);
    const d = await compose([half, good]);
    expect(d.alerts).toEqual([]);
    expect(d.recommendations).toHaveLength(1);
    expect(d.sections.find((s) => s.section === "alerts")).toEqual({ section: "alerts", state: "error", message: "Half failed" });
  });

  it("lets a later source's usage figure replace an earlier one's, in a stable order", async () => {
    const u = (resourceType: string, used: number) => ({ resourceType, quota: "q", used, limit: 10, unlimited: false, unit: "u", period: "" });
    const first = source("First", async (_ctx, out) => void out.usage.push(u("users", 1)), ["users"]);
    const second = source("Second", async (_ctx, out) => void out.usage.push(u("api_calls", 5), u("users", 2)), ["usage"]);
    const d = await compose([first, second]);
    expect(d.usage.map((x) => [x.resourceType, x.used])).toEqual([["users", 2], ["api_calls", 5]]);
    expect(d.analytics?.usageMetrics).toMatchObject({ users_used: 2, users_limit: 10, api_calls_used: 5 });
  });

  it("fails the whole call only when the tenant itself cannot be read", async () => {
    await expect(compose([], bearer("not-a-valid-token-at-all-000000"))).rejects.toMatchObject({ code: "TM_ERR_UNAUTHENTICATED" });
  });
});
