/**
 * The seed's CalculateTenantCosts as a pure function: a cost per resource type held (resource_costs) and per
 * usage type consumed (usage_costs), each `max(0, quantity − included) × rate`, plus the base fee, each line
 * rounded half to even to a minor unit, the total the sum of the rounded lines. No I/O: quantities come in.
 */
import type { ResourceType } from "../plans/index.js";
import { lineAmountMinor, microsPerMinor } from "./money.js";
import type { Rate, RateCard } from "./rate-card.js";

export type BillingCycle = "monthly" | "annual";
export type LineKind = "base_fee" | "resource" | "usage" | "late_adjustment";

/** One priced line; every number is an integer (BigInt) */
export interface ChargeLine {
  resourceType: string;
  kind: LineKind;
  description: string;
  quantity: bigint;
  unit: string;
  included: bigint;
  billable: bigint;
  rateMicros: bigint;
  unitsPerBillingUnit: bigint;
  amountMinor: bigint;
  /** late_adjustment lines: the period the usage belongs to */
  forPeriod: string;
}

export interface Breakdown {
  currency: string;
  baseFee: ChargeLine;
  resourceCosts: ChargeLine[];
  usageCosts: ChargeLine[];
  totalMinor: bigint;
}

/** Metered quantities of a period: usage types summed, resource types as the sum of month-end levels */
export type Quantities = Readonly<Record<ResourceType, bigint>>;

const max0 = (v: bigint): bigint => (v > 0n ? v : 0n);
const fmt = (v: bigint): string => v.toLocaleString("en-US");

/**
 * The base fee for `months` months: monthly billing charges the monthly fee per month; annual billing charges
 * `annualMonthsCharged` monthly fees per twelve months (a single month of it is a twelfth, rounded).
 */
export function baseFeeLine(card: RateCard, cycle: BillingCycle, months: number): ChargeLine {
  const perMinor = microsPerMinor(card.currency);
  const annual = cycle === "annual";
  const rateMicros = card.baseFeeMinor * perMinor * BigInt(annual ? card.annualMonthsCharged : 1);
  const per = annual ? 12n : 1n;
  const billable = BigInt(months);
  return {
    resourceType: "base_fee",
    kind: "base_fee",
    description: annual ? `${card.planType} plan, billed annually (${card.annualMonthsCharged} months for 12), ${months} month(s)` : `${card.planType} plan, ${months} month(s)`,
    quantity: billable,
    unit: "months",
    included: 0n,
    billable,
    rateMicros,
    unitsPerBillingUnit: per,
    amountMinor: lineAmountMinor(billable, rateMicros, per, card.currency),
    forPeriod: "",
  };
}

/** One resource or usage line: `quantity` against `months` of the included allowance */
export function usageLine(card: RateCard, rate: Rate, quantity: bigint, months: number): ChargeLine {
  const p = rate.pricing;
  const included = rate.includedPerMonth * BigInt(months);
  const billable = max0(quantity - included);
  return {
    resourceType: p.resourceType,
    kind: p.kind,
    description: `${p.resourceType}: ${fmt(quantity)} ${p.unit}, ${fmt(included)} included, ${fmt(billable)} billed per ${p.billingUnit}`,
    quantity,
    unit: p.unit,
    included,
    billable,
    rateMicros: rate.overageMicros,
    unitsPerBillingUnit: p.unitsPerBillingUnit,
    amountMinor: lineAmountMinor(billable, rate.overageMicros, p.unitsPerBillingUnit, card.currency),
    forPeriod: "",
  };
}

/** The full breakdown of a period of `months` months */
export function priceBreakdown(card: RateCard, cycle: BillingCycle, months: number, quantities: Quantities): Breakdown {
  const baseFee = baseFeeLine(card, cycle, months);
  const lines = card.rates.map((rate) => usageLine(card, rate, quantities[rate.pricing.resourceType], months));
  const resourceCosts = lines.filter((l) => l.kind === "resource");
  const usageCosts = lines.filter((l) => l.kind === "usage");
  return { currency: card.currency, baseFee, resourceCosts, usageCosts, totalMinor: sumLines([baseFee, ...lines]) };
}

export const sumLines = (lines: readonly ChargeLine[]): bigint => lines.reduce((t, l) => t + l.amountMinor, 0n);

/**
 * The correction for usage that arrived after `original` was invoiced: the line priced again at the quantity now
 * known, minus what was billed (the original line plus earlier adjustments). Negative: a credit.
 */
export function lateAdjustmentLine(original: ChargeLine, billedQuantity: bigint, billedAmount: bigint, quantityNow: bigint, currency: string, forPeriod: string): ChargeLine {
  const billable = max0(quantityNow - original.included);
  const amountNow = lineAmountMinor(billable, original.rateMicros, original.unitsPerBillingUnit, currency);
  const delta = quantityNow - billedQuantity;
  return {
    ...original,
    kind: "late_adjustment",
    description: `late usage for ${forPeriod}: ${original.resourceType} ${delta >= 0n ? "+" : ""}${fmt(delta)} ${original.unit}`,
    quantity: delta,
    billable: billable - max0(billedQuantity - original.included),
    amountMinor: amountNow - billedAmount,
    forPeriod,
  };
}
