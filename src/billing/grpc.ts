/**
 * tenantmesh.v1.BillingService over the RpcKit chain.
 *
 *   GetRateCard                                any authenticated caller (prices are not secret)
 *   CalculateCosts, ListInvoices,
 *   GetCostRecommendations                     billing:read on the tenant
 *   GenerateInvoice                            billing:write on the tenant (or operator)
 *
 * An empty tenant id means the caller's own tenant.
 */
import { z } from "zod";
import { principalTenant, type Permission, type Principal } from "../authz/index.js";
import { isUuid } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";
import { BillingServiceService, type BillingServiceServer } from "../gen/tenantmesh/v1/billing.js";
import { parseRequest, type Policy, type RpcKit } from "../grpc/index.js";
import type { Clock } from "../auth/clock.js";
import { isPlanType } from "../plans/index.js";
import { calculateCosts } from "./costs.js";
import { generateInvoice } from "./invoices.js";
import { breakdownMessage, invoiceMessage, rateCardMessage } from "./present.js";
import { rateCardFor } from "./rate-card.js";
import { recommend } from "./recommendations.js";
import { listInvoices } from "./store.js";

export { BillingServiceService };

const periodSchema = z.string().max(7);

/** A tenant policy on the request's tenant_id; empty means the caller's own; a malformed id is INVALID_ARGUMENT */
function tenantPolicy<Req extends { tenantId: string }>(permission: Permission): Policy<Req> {
  return {
    kind: "tenant",
    permission,
    tenant: (req: Req, p: Principal) => {
      if (req.tenantId !== "" && !isUuid(req.tenantId)) throw invalidArgument([{ field: "tenant_id", description: "must be a UUID" }]);
      return req.tenantId === "" ? principalTenant(p) : req.tenantId.toLowerCase();
    },
  };
}

/** The authorized tenant, or INVALID_ARGUMENT when an operator named none */
function tenantOf(tenantId: string | undefined): string {
  if (tenantId === undefined) throw invalidArgument([{ field: "tenant_id", description: "is required" }]);
  return tenantId;
}

/**
 * `settle` makes every usage batch acknowledged so far part of the rollups before costs are read (an invoice
 * must include what RecordUsage already accepted).
 */
export function billingServiceImplementation(kit: RpcKit, deps: { clock: Clock; settle: () => Promise<void> }): BillingServiceServer {
  const { clock, settle } = deps;
  return {
    getRateCard: kit.unary("GetRateCard", { kind: "authenticated" }, async (req) => {
      const plan = req.planType;
      if (!isPlanType(plan)) throw invalidArgument([{ field: "plan_type", description: "must be free, basic, professional or enterprise" }]);
      return rateCardMessage(rateCardFor(plan));
    }),

    calculateCosts: kit.unary("CalculateCosts", tenantPolicy("billing:read"), async (req, ctx) => {
      const label = parseRequest(periodSchema, req.period);
      const tenantId = tenantOf(ctx.tenantId);
      await settle();
      const { tenant, period, breakdown } = await ctx.inTenant((trx) => calculateCosts(trx, tenantId, label, clock.now()));
      return breakdownMessage(tenant, period, breakdown);
    }),

    generateInvoice: kit.unary("GenerateInvoice", tenantPolicy("billing:write"), async (req, ctx) => {
      const label = parseRequest(periodSchema, req.period);
      const tenantId = tenantOf(ctx.tenantId);
      await settle();
      const { invoice, created } = await ctx.inTenant((trx) => generateInvoice(trx, tenantId, label, clock.now()));
      if (created) ctx.log.info({ invoice_id: invoice.row.id, period: label, total_minor: String(invoice.row.total_minor) }, "invoice issued");
      return invoiceMessage(invoice);
    }),

    listInvoices: kit.unary("ListInvoices", tenantPolicy("billing:read"), async (_req, ctx) => {
      const tenantId = tenantOf(ctx.tenantId);
      const invoices = await ctx.inTenant((trx) => listInvoices(trx, tenantId));
      return { invoices: invoices.map(invoiceMessage) };
    }),

    getCostRecommendations: kit.unary("GetCostRecommendations", tenantPolicy("billing:read"), async (req, ctx) => {
      const months = req.months === 0 ? 3 : req.months;
      if (!Number.isInteger(months) || months < 1 || months > 24) throw invalidArgument([{ field: "months", description: "must be 1-24 (0: 3)" }]);
      const tenantId = tenantOf(ctx.tenantId);
      await settle();
      const result = await ctx.inTenant((trx) => recommend(trx, tenantId, months, clock.now()));
      return {
        tenantId,
        planType: result.planType,
        months,
        recommendations: result.recommendations.map((r) => ({
          kind: r.kind,
          fromPlan: r.fromPlan,
          toPlan: r.toPlan,
          reason: r.reason,
          currentMonthlyMinor: r.currentMonthlyMinor.toString(),
          suggestedMonthlyMinor: r.suggestedMonthlyMinor.toString(),
          evidence: r.evidence,
        })),
      };
    }),
  };
}
