/**
 * Invoices: issued once per tenant and billing period, never changed afterwards. Usage that arrives for a period
 * already invoiced (a proxy's spool replayed after a long outage) is kept in the rollups; the next invoice of the
 * tenant then carries a late_adjustment line per resource type whose quantity moved: the line priced again at
 * the quantity known now, minus everything billed for it before (the original line and earlier adjustments).
 */
import type { Tx } from "../db/index.js";
import { invalidArgument, TenantMeshError } from "../errors/index.js";
import { parseBillingPeriod, type BillingPeriod } from "../metering/index.js";
import { isPlanType, type ResourceType } from "../plans/index.js";
import { lateAdjustmentLine, priceBreakdown, sumLines, type BillingCycle, type ChargeLine } from "./pricing.js";
import { quantityOf, readQuantities } from "./quantities.js";
import { rateCardFor } from "./rate-card.js";
import { ensureBillingAccount, insertInvoice, listInvoices, readBillingTenant, type StoredInvoice } from "./store.js";

/** The billing period a cycle invoices: YYYY-MM for monthly billing, YYYY for annual billing */
export function invoicePeriod(label: string, cycle: BillingCycle): BillingPeriod {
  const period = parseBillingPeriod(label);
  const want = cycle === "annual" ? "year" : "month";
  if (period === undefined || period.kind !== want) {
    throw invalidArgument([{ field: "period", description: cycle === "annual" ? "the tenant is billed annually: give a year, YYYY" : "the tenant is billed monthly: give a month, YYYY-MM" }]);
  }
  return period;
}

/**
 * Issues the invoice of `label` for the tenant, or returns the one issued before (idempotent). The tenant row is
 * locked first, so two parallel calls queue and the second finds the first's invoice; the unique key on
 * (tenant_id, period_start) stands behind that.
 */
export async function generateInvoice(trx: Tx, tenantId: string, label: string, nowMs: number): Promise<{ invoice: StoredInvoice; created: boolean }> {
  const tenant = await readBillingTenant(trx, tenantId, { lock: true });
  const period = invoicePeriod(label, tenant.billingCycle);
  const [existing] = await listInvoices(trx, tenantId, period.start);
  if (existing) return { invoice: existing, created: false };
  if (period.end.getTime() > nowMs) {
    throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `period ${label} has not ended yet (it ends ${period.end.toISOString()}); use CalculateCosts for an estimate`);
  }
  const card = rateCardFor(tenant.planType);
  await ensureBillingAccount(trx, tenant, card.currency);
  const breakdown = priceBreakdown(card, tenant.billingCycle, period.months, await readQuantities(trx, tenantId, period));
  const earlier = (await listInvoices(trx, tenantId)).filter((i) => i.row.period_start.getTime() < period.start.getTime());
  const adjustments = await lateAdjustments(trx, tenantId, earlier, card.currency);
  const lines = [breakdown.baseFee, ...breakdown.resourceCosts, ...breakdown.usageCosts, ...adjustments];
  const invoice = await insertInvoice(
    trx,
    {
      tenant_id: tenantId,
      number: `INV-${tenantId}-${label}`,
      period: label,
      period_start: period.start,
      period_end: period.end,
      billing_cycle: tenant.billingCycle,
      plan_type: tenant.planType,
      currency: card.currency,
      issued_at: new Date(nowMs),
      total_minor: sumLines(lines),
    },
    lines,
  );
  return { invoice, created: true };
}

/** Adjustment lines for every earlier invoiced period whose metered quantities have moved since */
async function lateAdjustments(trx: Tx, tenantId: string, earlier: readonly StoredInvoice[], currency: string): Promise<ChargeLine[]> {
  const adjustments: ChargeLine[] = [];
  const allLines = earlier.flatMap((i) => i.lines);
  for (const invoice of [...earlier].reverse()) {
    const { period: label } = invoice.row;
    const period = parseBillingPeriod(label);
    if (period === undefined || !isPlanType(invoice.row.plan_type)) continue;
    for (const original of invoice.lines.filter((l) => l.kind === "resource" || l.kind === "usage")) {
      const later = allLines.filter((l) => l.kind === "late_adjustment" && l.forPeriod === label && l.resourceType === original.resourceType);
      const billedQuantity = later.reduce((q, l) => q + l.quantity, original.quantity);
      const billedAmount = later.reduce((a, l) => a + l.amountMinor, original.amountMinor);
      const now = await quantityOf(trx, tenantId, original.resourceType as ResourceType, period);
      if (now !== billedQuantity) adjustments.push(lateAdjustmentLine(original, billedQuantity, billedAmount, now, currency, label));
    }
  }
  return adjustments;
}
