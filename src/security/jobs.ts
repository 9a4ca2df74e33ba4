/**
 * The security slice's background work, each step idempotent so that every replica may run it:
 * - automatic key rotation: a tenant whose newest data key is older than its policy's key_rotation_days gets a
 *   new version (the seed's TenantEncryptor rotated on use; a job keeps the encryption path free of writes);
 * - retention purge: a cancelled tenant whose data_retention_days have passed since cancellation is
 *   crypto-shredded, with its receipt in the audit log.
 */
import type { Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { rotationCandidates } from "./data-keys.js";
import { effectivePolicy } from "./policy.js";
import type { SecurityRuntime } from "./runtime.js";
import { purgeTenant, type DeletionReceipt } from "./shred.js";

const DAY_MS = 24 * 60 * 60_000;

export interface JobDeps {
  db: Database;
  runtime: SecurityRuntime;
  clock: Clock;
  log: Logger;
}

/** Rotates every tenant key that is due; returns the tenants rotated */
export async function rotateDueKeys(deps: JobDeps): Promise<string[]> {
  const now = deps.clock.now();
  const candidates = await deps.db.asPlatform((trx) => rotationCandidates(trx));
  const rotated: string[] = [];
  for (const c of candidates) {
    const policy = effectivePolicy({ id: c.tenant_id, plan_type: c.plan_type, security_policy: c.security_policy, data_retention_days: 0, network_restrictions: [] });
    if (c.latest_created_at.getTime() + policy.keyRotationDays * DAY_MS > now) continue;
    try {
      await deps.db.withTenant(c.tenant_id, async (trx) => {
        const version = await deps.runtime.keyring.rotate(trx, c.tenant_id);
        await deps.runtime.audit.append(trx, c.tenant_id, {
          action: "key.rotated",
          actor: "system:key-rotation",
          target: `key:v${version}`,
          essential: true,
          detail: { version, trigger: "policy", key_rotation_days: policy.keyRotationDays },
        });
      });
      rotated.push(c.tenant_id);
    } catch (err) {
      deps.log.warn({ tenant_id: c.tenant_id, err: (err as Error).message }, "automatic key rotation failed");
    }
  }
  return rotated;
}

/** Crypto-shreds every cancelled tenant whose retention has ended; returns the receipts */
export async function purgeExpiredTenants(deps: JobDeps): Promise<DeletionReceipt[]> {
  const now = new Date(deps.clock.now());
  const expired = (await deps.db.asPlatform((trx) =>
    trx("tenants as t")
      .leftJoin("tenant_keyrings as k", "k.tenant_id", "t.id")
      .where("t.status", "cancelled")
      .whereNotNull("t.deleted_at")
      .whereNull("k.shredded_at")
      .whereRaw("t.deleted_at + make_interval(days => t.data_retention_days) <= ?", [now])
      .select("t.id", "t.data_retention_days"),
  )) as Array<{ id: string; data_retention_days: number }>;
  const receipts: DeletionReceipt[] = [];
  for (const t of expired) {
    try {
      receipts.push(
        await purgeTenant(
          { db: deps.db, keyring: deps.runtime.keyring, audit: deps.runtime.audit, clock: deps.clock },
          { tenantId: t.id, actor: "system:retention", reason: `data retention of ${t.data_retention_days} days ended` },
        ),
      );
      deps.log.warn({ tenant_id: t.id }, "retention ended: tenant crypto-shredded");
    } catch (err) {
      deps.log.error({ tenant_id: t.id, err: (err as Error).message }, "retention purge failed");
    }
  }
  return receipts;
}

/**
 * Gives every live tenant without keys its first ones (tenants made before encryption existed, or inserted
 * around provisioning), so processes that only use keys (KYB backends) find them. Returns how many.
 */
export async function ensureTenantKeys(deps: JobDeps, limit = 500): Promise<number> {
  const missing = (await deps.db.asPlatform((trx) =>
    trx("tenants as t")
      .leftJoin("tenant_keyrings as k", "k.tenant_id", "t.id")
      .whereIn("t.status", ["active", "suspended"])
      .where((q) => q.whereNull("k.tenant_id").orWhere("k.latest_version", 0))
      .select("t.id")
      .limit(limit),
  )) as Array<{ id: string }>;
  for (const { id } of missing) await deps.runtime.keyring.tenant(id);
  return missing.length;
}
