/**
 * SQL for tenant_keyrings and tenant_data_keys. Every function takes the transaction it runs in (the tenant's
 * own, or the platform's for jobs); none opens one. Wrapped keys travel as base64 text: the same on PGlite and
 * PostgreSQL, where BYTEA comes back as different types.
 */
import type { Tx } from "../db/index.js";

export interface KeyringRow {
  tenant_id: string;
  latest_version: number;
  min_decryption_version: number;
  rotated_at: Date | null;
  shredded_at: Date | null;
  shredded_by: string | null;
  created_at: Date;
}

export interface DataKeyRow {
  tenant_id: string;
  version: number;
  kek_id: string;
  wrapped_key: string;
  created_at: Date;
}

/** The tenant's keyring row; with `lock`, held until the transaction ends (rotations queue behind it) */
export async function findKeyring(trx: Tx, tenantId: string, options: { lock?: boolean } = {}): Promise<KeyringRow | undefined> {
  const q = trx<KeyringRow>("tenant_keyrings").where({ tenant_id: tenantId });
  return options.lock === true ? q.forUpdate().first() : q.first();
}

/** Creates the keyring row when missing (concurrent creators: one wins, the others find it), then locks it */
export async function lockOrCreateKeyring(trx: Tx, tenantId: string): Promise<KeyringRow> {
  await trx.raw("INSERT INTO tenant_keyrings (tenant_id) VALUES (?) ON CONFLICT (tenant_id) DO NOTHING", [tenantId]);
  const row = await findKeyring(trx, tenantId, { lock: true });
  if (row === undefined) throw new Error(`tenant_keyrings row of ${tenantId} vanished`);
  return row;
}

/** Data keys from `minVersion` up, oldest first */
export async function dataKeys(trx: Tx, tenantId: string, minVersion = 1): Promise<DataKeyRow[]> {
  return trx<DataKeyRow>("tenant_data_keys").where({ tenant_id: tenantId }).andWhere("version", ">=", minVersion).orderBy("version");
}

export async function insertDataKey(trx: Tx, row: Omit<DataKeyRow, "created_at"> & { created_at: Date }): Promise<void> {
  await trx("tenant_data_keys").insert(row);
}

export async function updateKeyring(
  trx: Tx,
  tenantId: string,
  patch: Partial<Pick<KeyringRow, "latest_version" | "min_decryption_version" | "rotated_at" | "shredded_at" | "shredded_by">>,
): Promise<void> {
  await trx("tenant_keyrings").where({ tenant_id: tenantId }).update(patch);
}

/** Replaces one data key's wrapping (master-key rotation): same key, new KEK */
export async function rewrapDataKey(trx: Tx, tenantId: string, version: number, kekId: string, wrapped: string): Promise<void> {
  await trx("tenant_data_keys").where({ tenant_id: tenantId, version }).update({ kek_id: kekId, wrapped_key: wrapped });
}

/** Removes the tenant's wrapped data keys (after its KEKs were destroyed they are noise) */
export async function deleteDataKeys(trx: Tx, tenantId: string): Promise<void> {
  await trx("tenant_data_keys").where({ tenant_id: tenantId }).delete();
}

/** Per live keyring: its newest data key's age and the tenant's plan and policy (the rotation job's input) */
export interface RotationCandidate {
  tenant_id: string;
  plan_type: string;
  security_policy: Record<string, unknown> | null;
  latest_created_at: Date;
}

export async function rotationCandidates(trx: Tx): Promise<RotationCandidate[]> {
  return (await trx("tenant_keyrings as k")
    .join("tenants as t", "t.id", "k.tenant_id")
    .join("tenant_data_keys as d", function on() {
      this.on("d.tenant_id", "=", "k.tenant_id").andOn("d.version", "=", "k.latest_version");
    })
    .whereNull("k.shredded_at")
    .whereNot("t.status", "cancelled")
    .select("k.tenant_id", "t.plan_type", "t.security_policy", "d.created_at as latest_created_at")) as RotationCandidate[];
}
