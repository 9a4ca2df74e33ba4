import type { Command } from "commander";
import { formatMinor } from "../../billing/money.js";
import type { Invoice } from "../../gen/tenantmesh/v1/billing.js";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows } from "../output.js";
import { clientOptions, optsOf } from "./common.js";
import { chargeColumns, chargeRows, withBilling } from "./costs.js";

function printInvoice(i: Invoice): void {
  process.stdout.write(`invoice ${i.number}  ${i.status}  period ${i.period}  plan ${i.planType}  issued ${i.issuedAt?.toISOString() ?? ""}\n\n`);
  printRows(chargeRows(i.lines, i.currency), chargeColumns, false);
  process.stdout.write(`\ntotal  ${formatMinor(BigInt(i.totalMinor), i.currency)}\n`);
}

/** `tenantmesh invoices list|generate <tenant>` (BillingService.ListInvoices / GenerateInvoice) */
export function registerInvoiceCommands(program: Command): void {
  const invoices = program.command("invoices").description("a tenant's invoices");

  clientOptions(invoices.command("list <tenant>").description("issued invoices, newest first")).action(async (tenant: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withBilling(o, async (billing, c) => {
      const res = await unary(billing, billing.listInvoices, { tenantId: await resolveTenantId(c, tenant) }, c.metadata);
      if (o.json) return printObject({ invoices: res.invoices }, true);
      printRows(
        res.invoices.map((i) => ({ number: i.number, period: i.period, status: i.status, total: formatMinor(BigInt(i.totalMinor), i.currency), lines: i.lines.length, issued_at: i.issuedAt })),
        ["number", "period", "status", "total", "lines", "issued_at"],
        false,
      );
    });
  });

  clientOptions(invoices.command("generate <tenant>").description("issue the invoice of an ended period (idempotent: again returns the same invoice)"))
    .requiredOption("--period <period>", "YYYY-MM (monthly billing) or YYYY (annual billing)")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { period: string }>(cmd);
      await withBilling(o, async (billing, c) => {
        const invoice = await unary(billing, billing.generateInvoice, { tenantId: await resolveTenantId(c, tenant), period: o.period }, c.metadata);
        if (o.json) return printObject({ ...invoice }, true);
        printInvoice(invoice);
      });
    });
}
