import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultProvisioningConfig, featureFlags, modules, planCatalogue, planTypes, resourceTypes, type Plan } from "./index.js";
import { renderPlanTables } from "./table.js";

const plans = planTypes.map((t) => planCatalogue[t]);
const numbers = (p: Plan): number[] => [
  ...Object.values(p.quotas),
  ...Object.values(p.performance),
  p.priorityLevel,
  p.scale.min,
  p.scale.max,
  p.scale.initial,
  p.rates.baseFeeMinor,
  ...Object.values(p.rates.included),
  ...Object.values(p.rates.overageMicros),
];

describe("the plan catalogue", () => {
  it("is documented: docs/plans.md holds the tables generated from it", () => {
    const doc = readFileSync(new URL("../../docs/plans.md", import.meta.url), "utf8");
    const { quotas, rates } = renderPlanTables();
    expect(doc).toContain(quotas);
    expect(doc).toContain(rates);
  });

  it.each(plans)("$type: whole non-negative numbers only, money included", (plan) => {
    for (const v of numbers(plan)) expect(Number.isSafeInteger(v) && v >= 0, String(v)).toBe(true);
  });

  it.each(plans)("$type: priority 1-10, sane scale bounds, every feature flag, known modules", (plan) => {
    expect(plan.priorityLevel).toBeGreaterThanOrEqual(1);
    expect(plan.priorityLevel).toBeLessThanOrEqual(10);
    expect(plan.scale.min).toBeGreaterThanOrEqual(1);
    expect(plan.scale.min).toBeLessThanOrEqual(plan.scale.initial);
    expect(plan.scale.initial).toBeLessThanOrEqual(plan.scale.max);
    expect(Object.keys(plan.features).sort()).toEqual([...featureFlags].sort());
    expect(plan.enabledModules.every((m) => (modules as readonly string[]).includes(m))).toBe(true);
    expect(Object.keys(plan.rates.included).sort()).toEqual([...resourceTypes].sort());
    expect(plan.quotas.apiRateLimit).toBeGreaterThan(0);
    expect(plan.performance.maxThroughputRps * 60).toBeGreaterThanOrEqual(plan.quotas.apiRateLimit);
  });

  it("never gives a bigger plan less of anything", () => {
    for (const [smaller, bigger] of plans.slice(0, -1).map((p, i) => [p, plans[i + 1] as Plan] as const)) {
      for (const key of Object.keys(smaller.quotas) as Array<keyof Plan["quotas"]>) expect(bigger.quotas[key]).toBeGreaterThanOrEqual(smaller.quotas[key]);
      for (const key of Object.keys(smaller.performance) as Array<keyof Plan["performance"]>) {
        expect(bigger.performance[key]).toBeGreaterThanOrEqual(smaller.performance[key]);
      }
      expect(bigger.priorityLevel).toBeGreaterThan(smaller.priorityLevel);
      for (const f of featureFlags) if (smaller.features[f]) expect(bigger.features[f]).toBe(true);
    }
  });

  it("gives free classification only and every paid plan risk assessment too", () => {
    expect(planCatalogue.free.enabledModules).toEqual(["classification"]);
    for (const t of ["basic", "professional", "enterprise"] as const) expect(planCatalogue[t].enabledModules).toEqual(["classification", "risk_assessment"]);
  });
});

describe("the provisioning config", () => {
  const { slugPattern, reservedSlugs } = defaultProvisioningConfig.validation;

  it("defaults to the basic plan and a 30 s timeout", () => {
    expect(defaultProvisioningConfig.defaultPlan).toBe("basic");
    expect(defaultProvisioningConfig.timeoutMs).toBe(30_000);
  });

  it.each(["acme", "a1b", "acme-corp", "x".repeat(63)])("accepts the slug %s", (slug) => expect(slugPattern.test(slug)).toBe(true));
  it.each(["ab", "Acme", "-acme", "acme-", "ac_me", "x".repeat(64), "acme.io", ""])("refuses the slug %s", (slug) => expect(slugPattern.test(slug)).toBe(false));
  it.each(["admin", "api", "www", "operator"])("reserves %s", (slug) => expect(reservedSlugs.has(slug)).toBe(true));
});
