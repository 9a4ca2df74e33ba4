import type { PlanType, ResourceType } from "../plans/index.js";
import { planFor } from "../plans/index.js";

/**
 * How each billed resource type is measured and priced: what the meter counts (`unit`), what a rate is per
 * (`billingUnit`), and how many metered units make one billing unit. `resource` types are held (billed on the
 * level at each month's end: GB-months, user-months), `usage` types are consumed (billed on the period's sum).
 */
export interface ResourcePricing {
  resourceType: ResourceType;
  kind: "resource" | "usage";
  unit: string;
  billingUnit: string;
  unitsPerBillingUnit: bigint;
  /** The catalogue's included amounts are in billing units; this turns them into metered units */
  includedScale: bigint;
}

export const pricing: readonly ResourcePricing[] = [
  { resourceType: "storage", kind: "resource", unit: "bytes", billingUnit: "GB-month", unitsPerBillingUnit: 1_000_000_000n, includedScale: 1_000_000_000n },
  { resourceType: "businesses", kind: "resource", unit: "businesses", billingUnit: "business-month", unitsPerBillingUnit: 1n, includedScale: 1n },
  { resourceType: "users", kind: "resource", unit: "users", billingUnit: "user-month", unitsPerBillingUnit: 1n, includedScale: 1n },
  { resourceType: "api_calls", kind: "usage", unit: "calls", billingUnit: "call", unitsPerBillingUnit: 1n, includedScale: 1n },
  { resourceType: "compute", kind: "usage", unit: "ms", billingUnit: "hour", unitsPerBillingUnit: 3_600_000n, includedScale: 3_600_000n },
];

/** One line of a plan's rate card, in metered units */
export interface Rate {
  pricing: ResourcePricing;
  /** Included per month, in metered units */
  includedPerMonth: bigint;
  overageMicros: bigint;
}

export interface RateCard {
  planType: PlanType;
  currency: string;
  baseFeeMinor: bigint;
  annualMonthsCharged: number;
  overageAllowed: boolean;
  rates: Rate[];
}

/** The rate card of a plan, read from the plan catalogue (the one place prices live) */
export function rateCardFor(planType: PlanType): RateCard {
  const r = planFor(planType).rates;
  return {
    planType,
    currency: r.currency,
    baseFeeMinor: BigInt(r.baseFeeMinor),
    annualMonthsCharged: r.annualMonthsCharged,
    overageAllowed: r.overageAllowed,
    rates: pricing.map((p) => ({
      pricing: p,
      includedPerMonth: BigInt(r.included[p.resourceType]) * p.includedScale,
      overageMicros: BigInt(r.overageAllowed ? r.overageMicros[p.resourceType] : 0),
    })),
  };
}
