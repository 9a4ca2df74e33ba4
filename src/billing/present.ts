import type { ChargeLine as ChargeLineMessage, CostBreakdown, Invoice, RateCard as RateCardMessage } from "../gen/tenantmesh/v1/billing.js";
import type { BillingPeriod } from "../metering/index.js";
import type { Breakdown, ChargeLine } from "./pricing.js";
import type { RateCard } from "./rate-card.js";
import type { BillingTenant, StoredInvoice } from "./store.js";

/** int64 fields travel as decimal strings (forceLong=string) */
const s = (v: bigint | number): string => v.toString();

export function lineMessage(l: ChargeLine): ChargeLineMessage {
  return {
    resourceType: l.resourceType,
    kind: l.kind,
    description: l.description,
    quantity: s(l.quantity),
    unit: l.unit,
    included: s(l.included),
    billable: s(l.billable),
    rateMicros: s(l.rateMicros),
    unitsPerBillingUnit: s(l.unitsPerBillingUnit),
    amountMinor: s(l.amountMinor),
    forPeriod: l.forPeriod,
  };
}

export function rateCardMessage(card: RateCard): RateCardMessage {
  return {
    planType: card.planType,
    currency: card.currency,
    baseFeeMinor: s(card.baseFeeMinor),
    annualMonthsCharged: card.annualMonthsCharged,
    overageAllowed: card.overageAllowed,
    rates: card.rates.map((r) => ({
      resourceType: r.pricing.resourceType,
      kind: r.pricing.kind,
      unit: r.pricing.unit,
      billingUnit: r.pricing.billingUnit,
      unitsPerBillingUnit: s(r.pricing.unitsPerBillingUnit),
      included: s(r.includedPerMonth),
      overageMicros: s(r.overageMicros),
    })),
  };
}

export function breakdownMessage(tenant: BillingTenant, period: BillingPeriod, b: Breakdown): CostBreakdown {
  return {
    tenantId: tenant.id,
    period: period.label,
    periodStart: period.start,
    periodEnd: period.end,
    planType: tenant.planType,
    billingCycle: tenant.billingCycle,
    currency: b.currency,
    baseFee: lineMessage(b.baseFee),
    resourceCosts: b.resourceCosts.map(lineMessage),
    usageCosts: b.usageCosts.map(lineMessage),
    totalMinor: s(b.totalMinor),
  };
}

export function invoiceMessage(i: StoredInvoice): Invoice {
  const r = i.row;
  return {
    id: r.id,
    tenantId: r.tenant_id,
    number: r.number,
    period: r.period,
    periodStart: new Date(r.period_start),
    periodEnd: new Date(r.period_end),
    billingCycle: r.billing_cycle,
    planType: r.plan_type,
    currency: r.currency,
    status: r.status,
    lines: i.lines.map(lineMessage),
    totalMinor: s(BigInt(r.total_minor)),
    issuedAt: new Date(r.issued_at),
  };
}
