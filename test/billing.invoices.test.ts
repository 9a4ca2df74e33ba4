import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BillingServiceClient, Invoice } from "../src/gen/tenantmesh/v1/billing.js";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, billingClient, failure, provisionTenant, quotaClient, rpc, usageBatch, usageEvent } from "./support/metering.js";

/**
 * GenerateInvoice: idempotent per tenant and period (also under parallel calls), immutable once issued (the
 * database refuses any change), only for ended periods, monthly or annual per the tenant's billing cycle; usage
 * arriving late for an invoiced period is billed on the next invoice as a late adjustment.
 */
let t: TestControlPlane;
let billing: BillingServiceClient;
let quotas: QuotaServiceClient;
const op = () => bearer(t.adminToken);
const monthAgo = (n: number, day = 10): Date => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, day, 12));
};
const label = (d: Date): string => d.toISOString().slice(0, 7);

beforeAll(async () => {
  t = await startTestControlPlane();
  billing = billingClient(t.address);
  quotas = quotaClient(t.address);
});
afterAll(async () => {
  billing?.close();
  quotas?.close();
  await t?.close();
});

const generate = (tenantId: string, period: string): Promise<Invoice> => rpc(billing, billing.generateInvoice, { tenantId, period }, op());
const record = (tenantId: string, resource: string, amount: number, at: Date) => rpc(quotas, quotas.recordUsage, usageBatch([usageEvent(tenantId, resource, amount, at)]), op());

describe("GenerateInvoice", () => {
  it("issues once per tenant and period: a second call returns the same invoice, unchanged", async () => {
    const tenantId = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
    await record(tenantId, "api_calls", 101_000, monthAgo(1));
    const first = await generate(tenantId, label(monthAgo(1)));
    expect(first).toMatchObject({ tenantId, period: label(monthAgo(1)), status: "issued", billingCycle: "monthly", planType: "basic", totalMinor: "4950" });
    expect(first.lines.map((l) => l.kind)).toEqual(["base_fee", "resource", "resource", "resource", "usage", "usage"]);
    await record(tenantId, "api_calls", 5_000, monthAgo(1)); // late: must not touch the issued invoice
    const again = await generate(tenantId, label(monthAgo(1)));
    expect(again).toEqual(first);
    const list = await rpc(billing, billing.listInvoices, { tenantId }, op());
    expect(list.invoices).toEqual([first]);
  });

  it("issues one invoice when 8 calls race", async () => {
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    const all = await Promise.all(Array.from({ length: 8 }, () => generate(tenantId, label(monthAgo(1)))));
    expect(new Set(all.map((i) => i.id)).size).toBe(1);
    const rows = await t.testDb.db.asPlatform((trx) => trx("invoices").where({ tenant_id: tenantId }));
    expect(rows).toHaveLength(1);
  });

  it("is immutable: neither database role may change or delete an issued invoice or its lines", async () => {
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    const invoice = await generate(tenantId, label(monthAgo(1)));
    const { db } = t.testDb;
    const attempts = [
      () => db.withTenant(tenantId, (trx) => trx("invoices").where({ id: invoice.id }).update({ total_minor: 0 })),
      () => db.withTenant(tenantId, (trx) => trx("invoices").where({ id: invoice.id }).del()),
      () => db.withTenant(tenantId, (trx) => trx("invoice_lines").where({ invoice_id: invoice.id }).update({ amount_minor: 0 })),
      () => db.asPlatform((trx) => trx("invoices").where({ id: invoice.id }).update({ total_minor: 0 })),
      () => db.asPlatform((trx) => trx("invoice_lines").where({ invoice_id: invoice.id }).del()),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ code: "42501" });
    expect((await rpc(billing, billing.listInvoices, { tenantId }, op())).invoices).toEqual([invoice]);
  });

  it("bills late usage of an invoiced period on the next invoice, as a late adjustment, once", async () => {
    const tenantId = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
    const [m3, m2, m1] = [monthAgo(3), monthAgo(2), monthAgo(1)];
    await record(tenantId, "api_calls", 101_000, m3); // 1,000 over: 0.50
    const first = await generate(tenantId, label(m3));
    expect(first.totalMinor).toBe("4950");
    await record(tenantId, "api_calls", 2_000, new Date(m3.getTime() + 86_400_000)); // arrives after the invoice: +1.00
    await record(tenantId, "compute", 1_000, new Date(m3.getTime() + 86_400_000)); // within the included hours: +0.00
    const second = await generate(tenantId, label(m2));
    const late = (i: Invoice) => i.lines.filter((l) => l.kind === "late_adjustment").map((l) => ({ r: l.resourceType, q: l.quantity, a: l.amountMinor, p: l.forPeriod }));
    expect(late(second)).toEqual([
      { r: "api_calls", q: "2000", a: "100", p: label(m3) },
      { r: "compute", q: "1000", a: "0", p: label(m3) },
    ]);
    expect(second.totalMinor).toBe(String(4_900 + 100));
    // More late usage for the same month: the next invoice bills only the new part, priced on top of the old.
    await record(tenantId, "api_calls", 300, new Date(m3.getTime() + 2 * 86_400_000));
    const third = await generate(tenantId, label(m1));
    expect(late(third)).toEqual([{ r: "api_calls", q: "300", a: "15", p: label(m3) }]);
    // The issued invoices are as they were.
    const list = await rpc(billing, billing.listInvoices, { tenantId }, op());
    expect(list.invoices.map((i) => i.id)).toEqual([third.id, second.id, first.id]);
    expect(list.invoices[2]).toEqual(first);
    expect(list.invoices[1]).toEqual(second);
  });

  it("refuses a period that has not ended, and one of the wrong shape for the billing cycle", async () => {
    const monthly = (await provisionTenant(t)).tenant?.id ?? "";
    const f = await failure(generate(monthly, label(monthAgo(0))));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(f.details).toContain("has not ended yet");
    expect((await failure(generate(monthly, "2025"))).details).toContain("billed monthly");
    const annual = (await provisionTenant(t, { billingCycle: "annual", planType: "basic" })).tenant?.id ?? "";
    expect((await failure(generate(annual, label(monthAgo(1))))).details).toContain("billed annually");
  });

  it("invoices an annual tenant per calendar year: ten monthly fees for twelve months", async () => {
    const tenantId = (await provisionTenant(t, { billingCycle: "annual", planType: "basic" })).tenant?.id ?? "";
    const lastYear = String(new Date().getUTCFullYear() - 1);
    await record(tenantId, "api_calls", 1_210_000, new Date(`${lastYear}-06-01T00:00:00Z`));
    const invoice = await generate(tenantId, lastYear);
    expect(invoice).toMatchObject({ period: lastYear, billingCycle: "annual", totalMinor: String(49_000 + 500) });
    expect(invoice.lines[0]).toMatchObject({ kind: "base_fee", quantity: "12", amountMinor: "49000" });
  });

  it("opens the billing account at provisioning with the tenant's billing_info", async () => {
    const p = await provisionTenant(t, { billingCycle: "annual", billingInfo: { company: "Acme GmbH", vat_id: "DE123" } });
    const account = await t.testDb.db.asPlatform((trx) => trx("billing_accounts").where({ tenant_id: p.tenant?.id }).first());
    expect(account).toMatchObject({ currency: "USD", billing_cycle: "annual", billing_info: { company: "Acme GmbH", vat_id: "DE123" } });
  });
});
