import { credentials } from "@grpc/grpc-js";
import type { Command } from "commander";
import { formatMinor } from "../../billing/money.js";
import type { ChargeLine } from "../../gen/tenantmesh/v1/billing.js";
import { BillingServiceClient } from "../../gen/tenantmesh/v1/billing.js";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** Charge lines as table rows, money formatted exactly (no floating point) */
export function chargeRows(lines: readonly ChargeLine[], currency: string): Array<Record<string, unknown>> {
  return lines.map((l) => ({
    kind: l.kind,
    resource: l.resourceType,
    quantity: `${l.quantity} ${l.unit}`,
    included: l.included,
    billable: l.billable,
    rate_micros: l.rateMicros,
    per: l.unitsPerBillingUnit,
    amount: formatMinor(BigInt(l.amountMinor), currency),
    for_period: l.forPeriod,
  }));
}

export const chargeColumns = ["kind", "resource", "quantity", "included", "billable", "rate_micros", "per", "amount", "for_period"];

/** Runs `fn` with a BillingService client next to the common clients */
export async function withBilling<T>(o: ClientOptions, fn: (billing: BillingServiceClient, c: Parameters<Parameters<typeof withClients>[1]>[0]) => Promise<T>): Promise<T> {
  return withClients(o, async (c) => {
    const billing = new BillingServiceClient(o.addr, credentials.createInsecure());
    try {
      return await fn(billing, c);
    } finally {
      billing.close();
    }
  });
}

/** `tenantmesh costs <tenant> --period YYYY-MM`: the cost breakdown (BillingService.CalculateCosts) */
export function registerCostsCommand(program: Command): void {
  clientOptions(program.command("costs <tenant>").description("a tenant's costs for a month (or year): base fee, per resource and usage type, total"))
    .option("--period <period>", "YYYY-MM or YYYY; default the current month", "")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { period: string }>(cmd);
      await withBilling(o, async (billing, c) => {
        const tenantId = await resolveTenantId(c, tenant);
        const res = await unary(billing, billing.calculateCosts, { tenantId, period: o.period }, c.metadata);
        if (o.json) return printObject({ ...res }, true);
        const lines = [...(res.baseFee ? [res.baseFee] : []), ...res.resourceCosts, ...res.usageCosts];
        process.stdout.write(`tenant ${res.tenantId}  plan ${res.planType}  billed ${res.billingCycle}  period ${res.period}\n\n`);
        printRows(chargeRows(lines, res.currency), chargeColumns.slice(0, -1), false);
        process.stdout.write(`\ntotal  ${formatMinor(BigInt(res.totalMinor), res.currency)}\n`);
      });
    });
}
