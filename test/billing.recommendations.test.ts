import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BillingServiceClient } from "../src/gen/tenantmesh/v1/billing.js";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, billingClient, provisionTenant, quotaClient, rpc, usageBatch, usageEvent } from "./support/metering.js";

/** GetCostRecommendations: plan changes the last complete months justify, each with the numbers behind it */
let t: TestControlPlane;
let billing: BillingServiceClient;
let quotas: QuotaServiceClient;
const op = () => bearer(t.adminToken);
const monthAgo = (n: number): Date => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 12));
};
const usageEachMonth = async (tenantId: string, resource: string, amount: number): Promise<void> => {
  await rpc(quotas, quotas.recordUsage, usageBatch([1, 2, 3].map((n) => usageEvent(tenantId, resource, amount, monthAgo(n)))), op());
};
const recommend = (tenantId: string) => rpc(billing, billing.getCostRecommendations, { tenantId, months: 3 }, op());

beforeAll(async () => {
  t = await startTestControlPlane();
  billing = billingClient(t.address);
  quotas = quotaClient(t.address);
});
afterAll(async () => {
  billing?.close();
  quotas?.close();
  await t?.close();
});

describe("GetCostRecommendations", () => {
  it("recommends a downgrade when every resource stayed under 20% of the plan, to the cheapest plan that takes the usage", async () => {
    const tenantId = (await provisionTenant(t, { planType: "professional" })).tenant?.id ?? "";
    await usageEachMonth(tenantId, "api_calls", 5_000); // 0.5% of 1,000,000; within the free plan's 10,000
    const res = await recommend(tenantId);
    expect(res).toMatchObject({ planType: "professional", months: 3 });
    expect(res.recommendations).toHaveLength(1);
    const r = res.recommendations[0];
    expect(r).toMatchObject({ kind: "downgrade", fromPlan: "professional", toPlan: "free", currentMonthlyMinor: "29900", suggestedMonthlyMinor: "0" });
    expect(r?.evidence["api_calls.peak_utilization_pct"]).toBe("0.50");
    expect(r?.reason).toContain("under 20%");
  });

  it("does not suggest a plan that would refuse the usage", async () => {
    const tenantId = (await provisionTenant(t, { planType: "professional" })).tenant?.id ?? "";
    await usageEachMonth(tenantId, "api_calls", 150_000); // 15%: over the free plan's hard 10,000, over basic's 100,000
    const r = (await recommend(tenantId)).recommendations[0];
    // basic: 49.00 + 50,000 × 0.0005 = 74.00, cheaper than 299.00; free would refuse it
    expect(r).toMatchObject({ kind: "downgrade", toPlan: "basic", suggestedMonthlyMinor: "7400" });
  });

  it("recommends an upgrade when overage made the plan dearer than the next one", async () => {
    const tenantId = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
    await usageEachMonth(tenantId, "api_calls", 700_000); // 600,000 over × 0.0005 = 300.00 a month on top of 49.00
    const r = (await recommend(tenantId)).recommendations[0];
    expect(r).toMatchObject({ kind: "upgrade", fromPlan: "basic", toPlan: "professional", currentMonthlyMinor: "34900", suggestedMonthlyMinor: "29900" });
    expect(r?.evidence["overage.months"]).toBe("3");
  });

  it("recommends an upgrade when the proxy throttled more than 1% of the calls", async () => {
    const tenantId = (await provisionTenant(t, { planType: "free" })).tenant?.id ?? "";
    await usageEachMonth(tenantId, "api_calls", 9_000);
    await usageEachMonth(tenantId, "throttled_calls", 400);
    const r = (await recommend(tenantId)).recommendations.find((x) => x.kind === "upgrade");
    expect(r).toMatchObject({ fromPlan: "free", toPlan: "basic" });
    expect(r?.evidence["throttled.calls"]).toBe("1200");
    expect(r?.reason).toContain("throttled");
  });

  it("recommends nothing for usage that fits the plan", async () => {
    const tenantId = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
    await usageEachMonth(tenantId, "api_calls", 60_000);
    expect((await recommend(tenantId)).recommendations).toEqual([]);
  });
});
