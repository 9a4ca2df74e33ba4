/**
 * Usage that services in this process record straight into the rollups, inside the same transaction as the
 * change that is the usage (a business inserted, a user created): the usage is counted exactly when the change
 * commits, with no batch to lose or replay.
 */
import type { Tx } from "../db/index.js";
import { applyUsage } from "./rollup.js";
import type { UsageEvent } from "./resources.js";

/**
 * The bytes a business occupies as the KYB service stores it: its fields as JSON, UTF-8. A stable measure of
 * what the tenant asked to store (the sealed, indexed form on disk varies with the database's own overhead).
 */
export function storedBytes(record: unknown): number {
  return Buffer.byteLength(JSON.stringify(record), "utf8");
}

/** KYB created a business: one `businesses` and its `storage` bytes */
export function businessCreatedUsage(tenantId: string, bytes: number, atMs: number): UsageEvent[] {
  const occurredAt = new Date(atMs);
  return [
    { tenantId, resourceType: "businesses", amount: 1, occurredAt },
    { tenantId, resourceType: "storage", amount: bytes, occurredAt },
  ];
}

/** The control plane created a user */
export function userCreatedUsage(tenantId: string, atMs: number): UsageEvent[] {
  return [{ tenantId, resourceType: "users", amount: 1, occurredAt: new Date(atMs) }];
}

/** Records usage in the caller's transaction (see the file comment) */
export function recordInTransaction(trx: Tx, events: readonly UsageEvent[]): Promise<number> {
  return applyUsage(trx, events);
}
