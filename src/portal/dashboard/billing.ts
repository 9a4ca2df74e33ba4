/**
 * Costs, invoices and cost recommendations from BillingService: CalculateCosts for the current period (what an
 * invoice would say today), the last invoices (ListInvoices, newest first) and GetCostRecommendations, whose
 * reasons carry the numbers that justify them. Money stays in integer minor units end to end.
 */
import { BillingServiceClient, type ChargeLine } from "../../gen/tenantmesh/v1/billing.js";
import { callUnary } from "../rpc-client.js";
import { metric, type DashboardSource } from "./source.js";

/** How many invoices the dashboard lists */
export const INVOICES_SHOWN = 5;

const lineName = (l: ChargeLine): string => l.description || `${l.resourceType} (${l.kind})`;

export const billingSource: DashboardSource = {
  service: "BillingService",
  sections: ["costs", "invoices", "recommendations"],
  views: ["full"],
  async fill(ctx, out) {
    const client = ctx.client(BillingServiceClient);
    const [costs, invoices, recs] = await Promise.all([
      callUnary(client, client.calculateCosts, { tenantId: ctx.tenant.id, period: "" }, ctx.metadata),
      callUnary(client, client.listInvoices, { tenantId: ctx.tenant.id }, ctx.metadata),
      callUnary(client, client.getCostRecommendations, { tenantId: ctx.tenant.id, months: 0 }, ctx.metadata),
    ]);
    const lines = [...(costs.baseFee ? [costs.baseFee] : []), ...costs.resourceCosts, ...costs.usageCosts];
    out.costs = {
      currency: costs.currency,
      totalMinor: costs.totalMinor,
      lines: lines.map((l) => ({ name: lineName(l), amountMinor: l.amountMinor })),
      periodStart: costs.periodStart,
      periodEnd: costs.periodEnd,
    };
    metric(out, "costMetrics", "total_minor", Number(costs.totalMinor));
    for (const l of lines) metric(out, "costMetrics", `${l.resourceType || l.kind}_minor`, Number(l.amountMinor));
    out.invoices = invoices.invoices.slice(0, INVOICES_SHOWN).map((i) => ({
      id: i.id,
      period: i.period,
      status: i.status,
      currency: i.currency,
      totalMinor: i.totalMinor,
      issuedAt: i.issuedAt,
    }));
    out.recommendations.push(
      ...recs.recommendations.map((r) => ({
        category: "cost",
        title: `${r.kind === "downgrade" ? "Downgrade" : "Upgrade"} to ${r.toPlan}`,
        reason: r.reason,
        action: `Request the ${r.toPlan} plan in Settings.`,
      })),
    );
  },
};
