/**
 * Every column the platform itself seals with a tenant's key. Retiring key versions must not strand them: before
 * the minimum decryption version rises, each value sealed with an older version is re-encrypted under the
 * newest one (its plaintext never leaves this process). Compliance counts the values still in the clear here.
 */
import type { Tx } from "../db/index.js";
import { quoteIdent } from "../db/roles.js";
import { fieldContext } from "./fields.js";
import type { TenantKeys } from "./tenant-keys.js";

export const sealedColumns: ReadonlyArray<{ table: string; column: string }> = [
  { table: "users", column: "mfa_secret" },
  { table: "businesses", column: "registration_number" },
  { table: "businesses", column: "sealed_details" },
];

/** Re-seals, under the newest version, every platform column value of the tenant sealed below `version` */
export async function rewrapSealedColumns(trx: Tx, tenantId: string, keys: TenantKeys, version: number): Promise<number> {
  let count = 0;
  for (const { table, column } of sealedColumns) {
    const c = quoteIdent(column);
    const rows = (await trx.raw(
      `SELECT id, ${c} AS value FROM ${quoteIdent(table)} WHERE tenant_id = ? AND substring(${c} from '^tmenc:v([0-9]+):')::int < ?`,
      [tenantId, version],
    )) as { rows: Array<{ id: string; value: string }> };
    for (const row of rows.rows) {
      const context = fieldContext(table, row.id, column);
      await trx(table).where({ id: row.id }).update({ [column]: keys.sealText(keys.openText(row.value, context), context) });
      count += 1;
    }
  }
  return count;
}

/** How many platform column values of the tenant are still plaintext (written before encryption existed) */
export async function countPlaintextColumns(trx: Tx, tenantId: string): Promise<number> {
  let count = 0;
  for (const { table, column } of sealedColumns) {
    const c = quoteIdent(column);
    const res = (await trx.raw(`SELECT count(*) AS n FROM ${quoteIdent(table)} WHERE tenant_id = ? AND ${c} IS NOT NULL AND ${c} NOT LIKE 'tmenc:v%'`, [
      tenantId,
    ])) as { rows: Array<{ n: number | string }> };
    count += Number(res.rows[0]?.n ?? 0);
  }
  return count;
}
