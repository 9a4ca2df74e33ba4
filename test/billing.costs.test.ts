import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { divideHalfEven, formatMinor, priceBreakdown, rateCardFor, type Quantities } from "../src/billing/index.js";
import type { BillingServiceClient } from "../src/gen/tenantmesh/v1/billing.js";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import type { PlanType } from "../src/plans/index.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, billingClient, failure, provisionTenant, quotaClient, rpc, usageBatch, usageEvent } from "./support/metering.js";

/**
 * Costs per plan against examples computed by hand from the rate card in docs/plans.md. Every amount is in
 * cents; a line is billable × rate (micro-USD) ÷ units per billing unit ÷ 10,000, rounded half to even.
 */
const GB = 1_000_000_000n;
const H = 3_600_000n;
const q = (v: Partial<Record<keyof Quantities, bigint>>): Quantities => ({ api_calls: 0n, compute: 0n, storage: 0n, businesses: 0n, users: 0n, ...v });
const lines = (plan: PlanType, quantities: Quantities, cycle: "monthly" | "annual" = "monthly", months = 1) => {
  const b = priceBreakdown(rateCardFor(plan), cycle, months, quantities);
  const by = Object.fromEntries([...b.resourceCosts, ...b.usageCosts].map((l) => [l.resourceType, l.amountMinor]));
  return { base: b.baseFee.amountMinor, ...by, total: b.totalMinor };
};

describe("money", () => {
  it("rounds half to even, for credits too", () => {
    expect([5n, 15n, 25n, 35n, -25n, -15n].map((n) => divideHalfEven(n, 10n))).toEqual([0n, 2n, 2n, 4n, -2n, -2n]);
    expect(divideHalfEven(251n, 100n)).toBe(3n);
    expect(divideHalfEven(249n, 100n)).toBe(2n);
    expect(formatMinor(199_917n, "USD")).toBe("1999.17 USD");
    expect(formatMinor(-5n, "USD")).toBe("-0.05 USD");
  });
});

describe("CalculateCosts by hand, one month per plan", () => {
  it("free: no base fee, and nothing above the included amounts is billed (it is refused instead)", () => {
    expect(lines("free", q({ api_calls: 12_345n, compute: 20n * H, storage: 3n * GB, users: 3n }))).toEqual({
      base: 0n, api_calls: 0n, compute: 0n, storage: 0n, businesses: 0n, users: 0n, total: 0n,
    });
  });

  it("basic: 49.00 base + 11.73 calls + 0.05 compute + 0.62 storage + 0.15 businesses + 10.00 users = 71.55", () => {
    // calls: 23,457 over × 0.0005 = 11.7285 → 1173 (11.7285 USD is 1172.85 cents: .85 rounds up)
    // compute: 0.5 h over × 0.10 = 0.05; storage: 2.5 GB over × 0.25 = 0.625 → 62 (half to even)
    // businesses: 3 over × 0.05 = 0.15; users: 2 over × 5.00 = 10.00
    expect(lines("basic", q({ api_calls: 123_457n, compute: 100n * H + H / 2n, storage: 12n * GB + GB / 2n, businesses: 1_003n, users: 12n }))).toEqual({
      base: 4_900n, api_calls: 1_173n, compute: 5n, storage: 62n, businesses: 15n, users: 1_000n, total: 7_155n,
    });
  });

  it("professional: 299.00 base + 0.02 calls + 0.10 compute + 8.00 users = 307.12", () => {
    // calls: 50 over × 0.0003 = 0.015 → 1.5 cents → 2 (half to even); compute: 1.25 h over × 0.08 = 0.10
    expect(lines("professional", q({ api_calls: 1_000_050n, compute: 501n * H + H / 4n, storage: 100n * GB, businesses: 10_000n, users: 52n }))).toEqual({
      base: 29_900n, api_calls: 2n, compute: 10n, storage: 0n, businesses: 0n, users: 800n, total: 30_712n,
    });
  });

  it("enterprise: 1999.00 base + 0.02 + 0.02 + 0.03 + 0.10 = 1999.17", () => {
    // calls: 250 over × 0.0001 = 2.5 cents → 2; compute: 0.5 h × 0.05 = 2.5 cents → 2 (both half to even)
    // storage: 0.3 GB × 0.10 = 3 cents; businesses: 10 over × 0.01 = 10 cents
    expect(lines("enterprise", q({ api_calls: 10_000_250n, compute: 2_000n * H + H / 2n, storage: 1_000n * GB + (3n * GB) / 10n, businesses: 100_010n, users: 500n }))).toEqual({
      base: 199_900n, api_calls: 2n, compute: 2n, storage: 3n, businesses: 10n, users: 0n, total: 199_917n,
    });
  });

  it("the total is the sum of the rounded lines, not the rounded sum", () => {
    // Two lines of 0.5 cent each: each rounds to 0 (half to even), so the total is 0, not 1.
    const r = lines("enterprise", q({ api_calls: 10_000_050n, compute: 2_000n * H + H / 10n }));
    expect(r).toMatchObject({ api_calls: 0n, compute: 0n });
    expect(r.total).toBe(199_900n);
  });
});

describe("annual billing", () => {
  it("charges annual_months_charged monthly fees for a year, with twelve months of allowances", () => {
    // basic: 10 × 49.00 = 490.00; 1,200,000 calls included in the year, 1,210,000 used: 10,000 × 0.0005 = 5.00
    expect(lines("basic", q({ api_calls: 1_210_000n }), "annual", 12)).toMatchObject({ base: 49_000n, api_calls: 500n, total: 49_500n });
  });

  it("shows one month of it as a twelfth of the year's fee", () => {
    // 490.00 / 12 = 40.8333… → 4083 cents
    expect(lines("basic", q({}), "annual", 1)).toMatchObject({ base: 4_083n, total: 4_083n });
  });
});

describe("CalculateCosts over gRPC", () => {
  let t: TestControlPlane;
  let billing: BillingServiceClient;
  let quotas: QuotaServiceClient;
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

  it("prices a basic tenant's recorded month as the hand-computed 61.40 USD", async () => {
    const tenantId = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
    const now = new Date();
    const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 10));
    const period = at.toISOString().slice(0, 7);
    await rpc(quotas, quotas.recordUsage, usageBatch([
      usageEvent(tenantId, "api_calls", 123_457, at),
      usageEvent(tenantId, "compute", 361_800_000, at),
      usageEvent(tenantId, "storage", 12_500_000_000, at),
    ]), bearer(t.adminToken));
    const costs = await rpc(billing, billing.calculateCosts, { tenantId, period }, bearer(t.adminToken));
    expect(costs).toMatchObject({ tenantId, period, planType: "basic", billingCycle: "monthly", currency: "USD", totalMinor: "6140" });
    expect(costs.baseFee?.amountMinor).toBe("4900");
    expect(Object.fromEntries(costs.usageCosts.map((l) => [l.resourceType, l.amountMinor]))).toEqual({ api_calls: "1173", compute: "5" });
    expect(Object.fromEntries(costs.resourceCosts.map((l) => [l.resourceType, l.amountMinor]))).toEqual({ storage: "62", businesses: "0", users: "0" });
    const api = costs.usageCosts.find((l) => l.resourceType === "api_calls");
    expect(api).toMatchObject({ quantity: "123457", included: "100000", billable: "23457", rateMicros: "500", unitsPerBillingUnit: "1", unit: "calls" });
  });

  it("answers the rate card of a plan and refuses a bad period", async () => {
    const card = await rpc(billing, billing.getRateCard, { planType: "professional" }, bearer(t.adminToken));
    expect(card).toMatchObject({ planType: "professional", currency: "USD", baseFeeMinor: "29900", annualMonthsCharged: 10, overageAllowed: true });
    expect(card.rates.find((r) => r.resourceType === "compute")).toMatchObject({ kind: "usage", unit: "ms", billingUnit: "hour", included: "1800000000", overageMicros: "80000" });
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    expect((await failure(rpc(billing, billing.calculateCosts, { tenantId, period: "2026-13" }, bearer(t.adminToken)))).code).toBe(status.INVALID_ARGUMENT);
  });
});
