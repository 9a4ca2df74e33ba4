/**
 * Crypto-shredding. Destroying a tenant's KEKs makes every data key wrapped by them, and so every ciphertext of
 * the tenant, unreadable for good: in the live database, in every dump and backup of it, in every replica.
 * Unlike a row DELETE it needs no pass over the data and reaches copies nobody can find any more.
 *
 * Order: the keystore first (the irreversible step, and the one that protects backups), then the database
 * (the keyring marked shredded, the useless wrapped keys removed, the receipt appended to the audit log) in one
 * transaction. A failure after the first step leaves the data already unreadable; running the purge again
 * finishes the rest.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Clock } from "../auth/clock.js";
import type { AuditLog } from "../audit/index.js";
import type { Database } from "../db/index.js";
import { notFound, TenantMeshError } from "../errors/index.js";
import { dataKeys, deleteDataKeys, findKeyring, updateKeyring } from "./data-keys.js";
import type { Keyring } from "./keyring.js";

export interface DeletionReceipt {
  receiptId: string;
  tenantId: string;
  destroyed: string[];
  keyEncryptionKeys: number;
  dataKeyVersions: number[];
  keyIdsSha256: string;
  destroyedAt: Date;
  destroyedBy: string;
  reason: string;
  auditSeq: number;
}

export interface PurgeInput {
  tenantId: string;
  actor: string;
  reason: string;
  requestId?: string;
  /** The operator's purge needs a cancelled tenant; the retention job passes only cancelled ones anyway */
  requireCancelled?: boolean;
}

export async function purgeTenant(deps: { db: Database; keyring: Keyring; audit: AuditLog; clock: Clock }, input: PurgeInput): Promise<DeletionReceipt> {
  const { db, keyring, audit } = deps;
  const tenant = (await db.asPlatform((trx) => trx("tenants").where({ id: input.tenantId }).first("id", "status"))) as { id: string; status: string } | undefined;
  if (tenant === undefined) throw notFound(`tenant ${input.tenantId}`);
  if (input.requireCancelled !== false && tenant.status !== "cancelled") {
    throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `cancel the tenant before purging it (it is ${tenant.status})`);
  }
  const ring = await db.asPlatform((trx) => findKeyring(trx, input.tenantId));
  if (ring?.shredded_at != null) throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `tenant ${input.tenantId} was purged at ${ring.shredded_at.toISOString()}`);

  const { kekIds } = await keyring.keystore.shred(input.tenantId);
  keyring.invalidate(input.tenantId);
  const destroyedAt = new Date(deps.clock.now());
  const receipt = await db.asPlatform(async (trx) => {
    await trx("tenant_keyrings").where({ tenant_id: input.tenantId }).forUpdate();
    const rows = await dataKeys(trx, input.tenantId);
    const ids = [...kekIds.map((k) => `kek:${k}`), ...rows.map((r) => `dk:${r.version}:${r.kek_id}`)].sort();
    await deleteDataKeys(trx, input.tenantId);
    await trx.raw("INSERT INTO tenant_keyrings (tenant_id) VALUES (?) ON CONFLICT (tenant_id) DO NOTHING", [input.tenantId]);
    await updateKeyring(trx, input.tenantId, { shredded_at: destroyedAt, shredded_by: input.actor });
    const receipt: Omit<DeletionReceipt, "auditSeq"> = {
      receiptId: randomUUID(),
      tenantId: input.tenantId,
      destroyed: ["key-encryption keys (keystore)", "wrapped data keys (tenant_data_keys)"],
      keyEncryptionKeys: kekIds.length,
      dataKeyVersions: rows.map((r) => r.version),
      keyIdsSha256: createHash("sha256").update(ids.join("\n")).digest("hex"),
      destroyedAt,
      destroyedBy: input.actor,
      reason: input.reason,
    };
    await audit.append(trx, input.tenantId, {
      action: "tenant.crypto_shredded",
      actor: input.actor,
      target: `tenant:${input.tenantId}`,
      ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
      essential: true,
      detail: {
        receipt_id: receipt.receiptId,
        destroyed: receipt.destroyed,
        key_encryption_keys: receipt.keyEncryptionKeys,
        data_key_versions: receipt.dataKeyVersions,
        key_ids_sha256: receipt.keyIdsSha256,
        destroyed_at: destroyedAt.toISOString(),
        reason: receipt.reason,
        keystore: keyring.keystore.kind,
      },
      occurredAt: destroyedAt,
    });
    const head = (await trx("audit_events").where({ tenant_id: input.tenantId }).max({ seq: "seq" }).first()) as { seq: number | string | null } | undefined;
    return { ...receipt, auditSeq: Number(head?.seq ?? 0) };
  });
  keyring.invalidate(input.tenantId);
  return receipt;
}
