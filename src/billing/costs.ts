import type { Tx } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";
import { monthPeriodOf, parseBillingPeriod, type BillingPeriod } from "../metering/index.js";
import { priceBreakdown, type Breakdown } from "./pricing.js";
import { readQuantities } from "./quantities.js";
import { rateCardFor } from "./rate-card.js";
import { readBillingTenant, type BillingTenant } from "./store.js";

/** A month (YYYY-MM) or a calendar year (YYYY); empty: the current month */
export function costPeriod(label: string, nowMs: number): BillingPeriod {
  if (label === "") return monthPeriodOf(nowMs);
  const period = parseBillingPeriod(label);
  if (period === undefined) throw invalidArgument([{ field: "period", description: "must be a month YYYY-MM or a year YYYY" }]);
  return period;
}

/**
 * The seed's CalculateTenantCosts for a period, on the tenant's current plan and billing cycle: what an invoice
 * would say if the period ended now (a running month counts the usage so far).
 */
export async function calculateCosts(trx: Tx, tenantId: string, label: string, nowMs: number): Promise<{ tenant: BillingTenant; period: BillingPeriod; breakdown: Breakdown }> {
  const tenant = await readBillingTenant(trx, tenantId, { lock: false });
  const period = costPeriod(label, nowMs);
  const breakdown = priceBreakdown(rateCardFor(tenant.planType), tenant.billingCycle, period.months, await readQuantities(trx, tenantId, period));
  return { tenant, period, breakdown };
}
