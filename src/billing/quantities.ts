/**
 * The metered quantities of a billing period, read in the tenant's RLS transaction. Usage types (api_calls,
 * compute) are the period's sum from the metering store. Resource types are held, and billed per month held:
 * the sum over the period's months of the level at each month's end — storage from the metering store (bytes
 * ever stored), businesses and users from their own rows (the same rows their stock quotas count, so what is
 * enforced is what is billed).
 */
import type { Tx } from "../db/index.js";
import { addMonths, monthRowsTotal, monthsOf, type BillingPeriod } from "../metering/index.js";
import type { ResourceType } from "../plans/index.js";
import type { Quantities } from "./pricing.js";

/** Live rows of a table at `atMs`: created before it and not deleted by then */
async function liveAt(trx: Tx, table: "businesses" | "users", tenantId: string, atMs: number): Promise<bigint> {
  const at = new Date(atMs);
  const rows = (await trx(table)
    .where({ tenant_id: tenantId })
    .where("created_at", "<", at)
    .where((q) => q.whereNull("deleted_at").orWhere("deleted_at", ">=", at))
    .count({ n: "*" })) as Array<{ n: unknown }>;
  return BigInt(Number(rows[0]?.n ?? 0));
}

/** One resource type's quantity for the period */
export async function quantityOf(trx: Tx, tenantId: string, resource: ResourceType, period: Pick<BillingPeriod, "start" | "end" | "months">): Promise<bigint> {
  const start = period.start.getTime();
  const end = period.end.getTime();
  switch (resource) {
    case "api_calls":
    case "compute":
      return BigInt(await monthRowsTotal(trx, tenantId, resource, start, end));
    case "storage":
    case "businesses":
    case "users": {
      let total = 0n;
      for (const month of monthsOf(period)) {
        const monthEnd = addMonths(month, 1);
        total += resource === "storage" ? BigInt(await monthRowsTotal(trx, tenantId, "storage", undefined, monthEnd)) : await liveAt(trx, resource, tenantId, monthEnd);
      }
      return total;
    }
  }
}

export async function readQuantities(trx: Tx, tenantId: string, period: Pick<BillingPeriod, "start" | "end" | "months">): Promise<Quantities> {
  return {
    api_calls: await quantityOf(trx, tenantId, "api_calls", period),
    compute: await quantityOf(trx, tenantId, "compute", period),
    storage: await quantityOf(trx, tenantId, "storage", period),
    businesses: await quantityOf(trx, tenantId, "businesses", period),
    users: await quantityOf(trx, tenantId, "users", period),
  };
}
