import { status, type Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BillingServiceClient } from "../src/gen/tenantmesh/v1/billing.js";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import type { ProvisionTenantResponse, TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { rpc as tenantRpc, tenantClient } from "../src/tenants/testing.js";
import { rpc as userRpc, userClient } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, billingClient, failure, provisionTenant, quotaClient, rpc, usageBatch, usageEvent, usageWriterToken } from "./support/metering.js";

/**
 * Tenant A's credentials against tenant B's usage, quotas, costs and invoices: every call is PERMISSION_DENIED
 * (the same answer as for a tenant that does not exist), and A's own answers hold none of B's numbers.
 */
let t: TestControlPlane;
let quotas: QuotaServiceClient;
let billing: BillingServiceClient;
let tenants: TenantServiceClient;
let a: ProvisionTenantResponse;
let b: ProvisionTenantResponse;
let aSession: string;
let aViewerKey: string;
const PASSWORD = "correct-Horse-battery-9";
const lastMonth = (): Date => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 10));
};

beforeAll(async () => {
  t = await startTestControlPlane();
  quotas = quotaClient(t.address);
  billing = billingClient(t.address);
  tenants = tenantClient(t.address);
  a = await provisionTenant(t, { adminPassword: PASSWORD });
  b = await provisionTenant(t);
  const op = bearer(t.adminToken);
  await rpc(quotas, quotas.recordUsage, usageBatch([usageEvent(a.tenant?.id ?? "", "api_calls", 11, lastMonth()), usageEvent(b.tenant?.id ?? "", "api_calls", 777_777, lastMonth())]), op);
  await rpc(billing, billing.generateInvoice, { tenantId: b.tenant?.id ?? "", period: lastMonth().toISOString().slice(0, 7) }, op);
  const users = userClient(t.address);
  aSession = (await userRpc(users, users.authenticate, { tenantSlug: a.tenant?.slug ?? "", email: a.adminUser?.email ?? "", password: PASSWORD, totpCode: "" })).sessionToken;
  users.close();
  aViewerKey = (await tenantRpc(tenants, tenants.createApiKey, { tenantId: a.tenant?.id ?? "", name: "viewer", role: "viewer", expiresAt: undefined }, bearer(a.apiKey))).apiKey;
});
afterAll(async () => {
  quotas?.close();
  billing?.close();
  tenants?.close();
  await t?.close();
});

/** Every usage, quota, cost and invoice call aimed at `tenantId` */
function callsAgainst(tenantId: string, md: Metadata): Record<string, () => Promise<unknown>> {
  const period = lastMonth().toISOString().slice(0, 7);
  return {
    GetUsage: () => rpc(quotas, quotas.getUsage, { tenantId, resourceType: "", granularity: "month", start: undefined, end: undefined }, md),
    CheckQuota: () => rpc(quotas, quotas.checkQuota, { tenantId, resourceType: "api_calls", amount: "0" }, md),
    CalculateCosts: () => rpc(billing, billing.calculateCosts, { tenantId, period }, md),
    ListInvoices: () => rpc(billing, billing.listInvoices, { tenantId }, md),
    GenerateInvoice: () => rpc(billing, billing.generateInvoice, { tenantId, period }, md),
    GetCostRecommendations: () => rpc(billing, billing.getCostRecommendations, { tenantId, months: 0 }, md),
    AllocateResources: () => rpc(quotas, quotas.allocateResources, { tenantId, pool: "cache", amount: "1" }, md),
    RecordUsage: () => rpc(quotas, quotas.recordUsage, usageBatch([usageEvent(tenantId, "api_calls", 1, new Date())]), md),
  };
}

describe.each([
  ["A's admin API key", () => bearer(a.apiKey)],
  ["A's admin user session", () => bearer(aSession)],
])("%s", (_name, md) => {
  it.each(Object.keys(callsAgainst("", bearer(""))))("cannot %s on tenant B, nor on a tenant that does not exist", async (call) => {
    const onB = await failure(callsAgainst(b.tenant?.id ?? "", md())[call]?.() ?? Promise.resolve());
    const onNobody = await failure(callsAgainst("00000000-0000-4000-8000-000000000000", md())[call]?.() ?? Promise.resolve());
    expect(onB.code).toBe(status.PERMISSION_DENIED);
    expect(onNobody).toEqual(onB);
  });

  it("reads its own usage, costs and invoices, with none of B's numbers", async () => {
    const usage = await rpc(quotas, quotas.getUsage, { tenantId: "", resourceType: "", granularity: "month", start: new Date(Date.now() - 200 * 86_400_000), end: undefined }, md());
    expect(usage.tenantId).toBe(a.tenant?.id);
    expect(usage.totals.api_calls).toBe("11");
    const costs = await rpc(billing, billing.calculateCosts, { tenantId: "", period: lastMonth().toISOString().slice(0, 7) }, md());
    expect(costs.usageCosts.find((l) => l.resourceType === "api_calls")?.quantity).toBe("11");
    expect((await rpc(billing, billing.listInvoices, { tenantId: "" }, md())).invoices).toEqual([]);
  });
});

describe("narrower credentials", () => {
  it("a viewer may read usage but not costs or invoices", async () => {
    const md = bearer(aViewerKey);
    await expect(rpc(quotas, quotas.getUsage, { tenantId: "", resourceType: "", granularity: "", start: undefined, end: undefined }, md)).resolves.toBeDefined();
    expect((await failure(rpc(billing, billing.calculateCosts, { tenantId: "", period: "" }, md))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(rpc(billing, billing.listInvoices, { tenantId: "" }, md))).code).toBe(status.PERMISSION_DENIED);
  });

  it("a service token (usage:write) feeds usage but reads no tenant's usage, costs or invoices", async () => {
    const md = bearer(usageWriterToken(t));
    const calls = callsAgainst(b.tenant?.id ?? "", md);
    for (const name of ["GetUsage", "CalculateCosts", "ListInvoices", "GenerateInvoice", "GetCostRecommendations"]) {
      expect((await failure(calls[name]?.() ?? Promise.resolve())).code, name).toBe(status.PERMISSION_DENIED);
    }
  });

  it("row-level security backs the checks: inside A's transaction, B's usage and invoices are not there", async () => {
    const seen = await t.testDb.db.withTenant(a.tenant?.id ?? "", async (trx) => ({
      usage: await trx("tenant_resource_usage").where({ tenant_id: b.tenant?.id }),
      invoices: await trx("invoices").where({ tenant_id: b.tenant?.id }),
      lines: await trx("invoice_lines").where({ tenant_id: b.tenant?.id }),
    }));
    expect(seen).toEqual({ usage: [], invoices: [], lines: [] });
  });
});
