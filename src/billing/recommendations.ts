/**
 * Cost recommendations from the last complete months, each with the numbers behind it:
 * - downgrade: every resource stayed under 20% of what the plan includes in every month looked at, and a cheaper
 *   plan would have cost less for the same usage (and would not have refused any of it);
 * - upgrade: overage was billed, or the proxy throttled more than 1% of the API calls, in at least half of the
 *   months, and a larger plan would cost no more (throttling alone recommends the larger plan's higher limits
 *   whatever the price).
 */
import type { Tx } from "../db/index.js";
import { addMonths, monthRowsTotal, periodStart } from "../metering/index.js";
import { planFor, planTypes, type PlanType } from "../plans/index.js";
import { priceBreakdown, type BillingCycle, type Quantities } from "./pricing.js";
import { readQuantities } from "./quantities.js";
import { rateCardFor } from "./rate-card.js";
import { readBillingTenant } from "./store.js";

export interface Recommendation {
  kind: "downgrade" | "upgrade";
  fromPlan: PlanType;
  toPlan: PlanType;
  reason: string;
  currentMonthlyMinor: bigint;
  suggestedMonthlyMinor: bigint;
  evidence: Record<string, string>;
}

interface Month {
  quantities: Quantities;
  apiCalls: number;
  throttled: number;
}

const pct = (part: bigint, whole: bigint): number => (whole === 0n ? 0 : Number((part * 10_000n) / whole) / 100);
const average = (values: readonly bigint[]): bigint => (values.length === 0 ? 0n : values.reduce((a, b) => a + b, 0n) / BigInt(values.length));

function averageCost(plan: PlanType, cycle: BillingCycle, months: readonly Month[]): bigint {
  return average(months.map((m) => priceBreakdown(rateCardFor(plan), cycle, 1, m.quantities).totalMinor));
}

/** Would `plan` have taken this usage? A plan without overage refuses anything above its included amounts */
function fits(plan: PlanType, months: readonly Month[]): boolean {
  const card = rateCardFor(plan);
  if (card.overageAllowed) return true;
  return months.every((m) => card.rates.every((r) => m.quantities[r.pricing.resourceType] <= r.includedPerMonth));
}

export async function recommend(trx: Tx, tenantId: string, monthsBack: number, nowMs: number): Promise<{ planType: PlanType; recommendations: Recommendation[] }> {
  const tenant = await readBillingTenant(trx, tenantId, { lock: false });
  const current = tenant.planType;
  const thisMonth = periodStart("month", nowMs);
  const months: Month[] = [];
  for (let i = monthsBack; i >= 1; i--) {
    const start = addMonths(thisMonth, -i);
    const end = addMonths(start, 1);
    const period = { start: new Date(start), end: new Date(end), months: 1 };
    months.push({
      quantities: await readQuantities(trx, tenantId, period),
      apiCalls: await monthRowsTotal(trx, tenantId, "api_calls", start, end),
      throttled: await monthRowsTotal(trx, tenantId, "throttled_calls", start, end),
    });
  }
  const card = rateCardFor(current);
  const currentCost = averageCost(current, tenant.billingCycle, months);
  const evidence: Record<string, string> = { months: String(monthsBack), "current.avg_monthly_minor": currentCost.toString() };
  const peak: Record<string, number> = {};
  for (const r of card.rates) {
    const key = r.pricing.resourceType;
    peak[key] = Math.max(0, ...months.map((m) => pct(m.quantities[key], r.includedPerMonth)));
    evidence[`${key}.peak_utilization_pct`] = peak[key].toFixed(2);
  }
  const overageMonths = months.filter((m) => {
    const b = priceBreakdown(card, tenant.billingCycle, 1, m.quantities);
    return [...b.usageCosts, ...b.resourceCosts].some((l) => l.amountMinor > 0n);
  }).length;
  const throttledMonths = months.filter((m) => m.apiCalls > 0 && m.throttled / (m.apiCalls + m.throttled) > 0.01).length;
  evidence["overage.months"] = String(overageMonths);
  evidence["throttled.months"] = String(throttledMonths);
  evidence["throttled.calls"] = String(months.reduce((t, m) => t + m.throttled, 0));
  const out: Recommendation[] = [];
  const rank = planTypes.indexOf(current);
  const half = Math.max(1, Math.ceil(monthsBack / 2));

  if (months.length > 0 && Object.values(peak).every((p) => p < 20)) {
    const cheaper = planTypes
      .slice(0, rank)
      .filter((p) => fits(p, months))
      .map((p) => ({ plan: p, cost: averageCost(p, tenant.billingCycle, months) }))
      .filter((c) => c.cost < currentCost)
      .sort((a, b) => (a.cost < b.cost ? -1 : a.cost > b.cost ? 1 : 0))[0];
    if (cheaper) {
      const worst = Object.entries(peak).sort((a, b) => b[1] - a[1])[0] ?? ["usage", 0];
      out.push({
        kind: "downgrade",
        fromPlan: current,
        toPlan: cheaper.plan,
        reason: `every resource stayed under 20% of the ${current} plan in each of the last ${monthsBack} months (highest: ${worst[0]} at ${worst[1].toFixed(2)}%); ${cheaper.plan} would have cost ${cheaper.cost} instead of ${currentCost} minor units a month on average`,
        currentMonthlyMinor: currentCost,
        suggestedMonthlyMinor: cheaper.cost,
        evidence: { ...evidence, "suggested.avg_monthly_minor": cheaper.cost.toString() },
      });
    }
  }
  const next = planTypes[rank + 1];
  if (next !== undefined && (overageMonths >= half || throttledMonths >= half)) {
    const nextCost = averageCost(next, tenant.billingCycle, months);
    if (throttledMonths >= half || nextCost <= currentCost) {
      const why = throttledMonths >= half
        ? `the proxy throttled more than 1% of API calls in ${throttledMonths} of the last ${monthsBack} months (${evidence["throttled.calls"]} calls); ${next} allows ${planFor(next).quotas.apiRateLimit} requests/min instead of ${planFor(current).quotas.apiRateLimit}`
        : `overage was billed in ${overageMonths} of the last ${monthsBack} months`;
      out.push({
        kind: "upgrade",
        fromPlan: current,
        toPlan: next,
        reason: `${why}; ${next} would cost ${nextCost} instead of ${currentCost} minor units a month on average`,
        currentMonthlyMinor: currentCost,
        suggestedMonthlyMinor: nextCost,
        evidence: { ...evidence, "suggested.avg_monthly_minor": nextCost.toString() },
      });
    }
  }
  return { planType: current, recommendations: out };
}
