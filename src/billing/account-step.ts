import type { ProvisioningStep } from "../tenants/index.js";
import { need } from "../tenants/index.js";
import { rateCardFor } from "./rate-card.js";
import { ensureBillingAccount } from "./store.js";

/**
 * Provisioning step `create-billing-account`: the tenant's billing account, in its plan's currency, with the
 * billing cycle and the `billing_info` of the ProvisionTenant request. Undone by deleting it (also cascades when
 * the tenant row goes).
 */
export const createBillingAccountStep: ProvisioningStep = {
  name: "create-billing-account",
  async run(ctx) {
    const tenant = need(ctx.tenant, "tenant");
    const planType = need(ctx.planType, "planType");
    await ctx.env.db.withTenant(tenant.id, (trx) =>
      ensureBillingAccount(
        trx,
        { id: tenant.id, planType, billingCycle: need(ctx.billingCycle, "billingCycle"), billingInfo: ctx.input.billingInfo ?? {} },
        rateCardFor(planType).currency,
      ),
    );
  },
  async undo(ctx) {
    const tenant = need(ctx.tenant, "tenant");
    await ctx.env.db.withTenant(tenant.id, (trx) => trx("billing_accounts").where({ tenant_id: tenant.id }).delete());
  },
};
