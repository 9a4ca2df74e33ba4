/**
 * SQL of the billing slice: billing accounts, invoices and their lines. Every function takes the tenant's RLS
 * transaction. Invoices and lines are only ever inserted and read (the roles hold no UPDATE or DELETE on them).
 */
import type { Tx } from "../db/index.js";
import { notFound } from "../errors/index.js";
import { isPlanType, type PlanType } from "../plans/index.js";
import type { BillingCycle, ChargeLine, LineKind } from "./pricing.js";

/** The tenant columns billing reads */
export interface BillingTenant {
  id: string;
  planType: PlanType;
  billingCycle: BillingCycle;
  billingInfo: Record<string, unknown>;
}

/** The tenant's row, locked FOR NO KEY UPDATE when asked (GenerateInvoice: one issuer per tenant at a time) */
export async function readBillingTenant(trx: Tx, tenantId: string, options: { lock: boolean }): Promise<BillingTenant> {
  const q = trx("tenants").select("id", "plan_type", "billing_cycle", "billing_info").where({ id: tenantId }).whereNull("deleted_at");
  const row = (await (options.lock ? q.forNoKeyUpdate() : q).first()) as
    | { id: string; plan_type: string; billing_cycle: string | null; billing_info: Record<string, unknown> | null }
    | undefined;
  if (row === undefined || !isPlanType(row.plan_type)) throw notFound("tenant");
  return { id: row.id, planType: row.plan_type, billingCycle: row.billing_cycle === "annual" ? "annual" : "monthly", billingInfo: row.billing_info ?? {} };
}

/** Creates the tenant's billing account unless it has one; returns whether it made it */
export async function ensureBillingAccount(trx: Tx, tenant: BillingTenant, currency: string): Promise<boolean> {
  const rows = (await trx.raw(
    `INSERT INTO billing_accounts (tenant_id, currency, billing_cycle, billing_info) VALUES (?, ?, ?, ?::jsonb)
     ON CONFLICT (tenant_id) DO NOTHING RETURNING tenant_id`,
    [tenant.id, currency, tenant.billingCycle, JSON.stringify(tenant.billingInfo)],
  )) as { rows: unknown[] };
  return rows.rows.length > 0;
}

export interface InvoiceRow {
  id: string;
  tenant_id: string;
  number: string;
  period: string;
  period_start: Date;
  period_end: Date;
  billing_cycle: BillingCycle;
  plan_type: string;
  currency: string;
  status: string;
  total_minor: number | string;
  issued_at: Date;
}

interface LineRow {
  invoice_id: string;
  position: number;
  kind: LineKind;
  resource_type: string;
  description: string;
  quantity: number | string;
  unit: string;
  included: number | string;
  billable: number | string;
  rate_micros: number | string;
  units_per_billing_unit: number | string;
  amount_minor: number | string;
  for_period: string;
}

export interface StoredInvoice {
  row: InvoiceRow;
  lines: ChargeLine[];
}

const big = (v: number | string): bigint => BigInt(v);
const toLine = (r: LineRow): ChargeLine => ({
  resourceType: r.resource_type,
  kind: r.kind,
  description: r.description,
  quantity: big(r.quantity),
  unit: r.unit,
  included: big(r.included),
  billable: big(r.billable),
  rateMicros: big(r.rate_micros),
  unitsPerBillingUnit: big(r.units_per_billing_unit),
  amountMinor: big(r.amount_minor),
  forPeriod: r.for_period,
});

/** The tenant's invoices with their lines, newest period first (or only the one starting at `periodStart`) */
export async function listInvoices(trx: Tx, tenantId: string, periodStart?: Date): Promise<StoredInvoice[]> {
  let q = trx("invoices").where({ tenant_id: tenantId });
  if (periodStart !== undefined) q = q.where({ period_start: periodStart });
  const rows = (await q.orderBy("period_start", "desc")) as InvoiceRow[];
  if (rows.length === 0) return [];
  const lines = (await trx("invoice_lines")
    .where({ tenant_id: tenantId })
    .whereIn("invoice_id", rows.map((r) => r.id))
    .orderBy([{ column: "invoice_id" }, { column: "position" }])) as LineRow[];
  return rows.map((row) => ({ row, lines: lines.filter((l) => l.invoice_id === row.id).map(toLine) }));
}

/** Inserts an invoice and its lines; both are immutable from here on */
export async function insertInvoice(
  trx: Tx,
  invoice: Omit<InvoiceRow, "id" | "status" | "issued_at" | "total_minor"> & { issued_at: Date; total_minor: bigint },
  lines: readonly ChargeLine[],
): Promise<StoredInvoice> {
  const [row] = (await trx("invoices")
    .insert({ ...invoice, total_minor: invoice.total_minor.toString() })
    .returning("*")) as InvoiceRow[];
  if (row === undefined) throw new Error("invoice insert returned no row");
  if (lines.length > 0) {
    await trx("invoice_lines").insert(
      lines.map((l, position) => ({
        tenant_id: row.tenant_id,
        invoice_id: row.id,
        position,
        kind: l.kind,
        resource_type: l.resourceType,
        description: l.description.slice(0, 255),
        quantity: l.quantity.toString(),
        unit: l.unit,
        included: l.included.toString(),
        billable: l.billable.toString(),
        rate_micros: l.rateMicros.toString(),
        units_per_billing_unit: l.unitsPerBillingUnit.toString(),
        amount_minor: l.amountMinor.toString(),
        for_period: l.forPeriod,
      })),
    );
  }
  return { row, lines: [...lines] };
}
