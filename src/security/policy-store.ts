/**
 * Reading and writing a tenant's policy in its `tenants` row. Writes go through the tenants store, so the
 * change-log trigger fires and the proxies receive new network restrictions through their feed like any other
 * tenant change.
 */
import type { AuditLevel } from "../audit/index.js";
import type { Tx } from "../db/index.js";
import { notFound } from "../errors/index.js";
import { updateTenant } from "../tenants/store.js";
import { effectivePolicy, toStoredPolicy, type PolicyColumns, type SecurityPolicy } from "./policy.js";

const columns = ["id", "plan_type", "status", "security_policy", "data_retention_days", "network_restrictions"] as const;

export async function findPolicyColumns(trx: Tx, tenantId: string, options: { lock?: boolean } = {}): Promise<(PolicyColumns & { status: string }) | undefined> {
  const q = trx("tenants").select(columns).where({ id: tenantId });
  return (await (options.lock === true ? q.forUpdate() : q).first()) as (PolicyColumns & { status: string }) | undefined;
}

/** The tenant's effective policy; NOT_FOUND when the tenant is not visible in this transaction */
export async function readPolicy(trx: Tx, tenantId: string, options: { lock?: boolean } = {}): Promise<SecurityPolicy> {
  const row = await findPolicyColumns(trx, tenantId, options);
  if (row === undefined) throw notFound(`tenant ${tenantId}`);
  return effectivePolicy(row);
}

/** Stores the policy: its JSON, and the two fields with columns of their own */
export async function writePolicy(trx: Tx, policy: SecurityPolicy): Promise<void> {
  const updated = await updateTenant(trx, policy.tenantId, {
    security_policy: toStoredPolicy(policy) as Record<string, unknown>,
    network_restrictions: policy.networkRestrictions,
    data_retention_days: policy.dataRetentionDays,
  });
  if (updated === undefined) throw notFound(`tenant ${policy.tenantId}`);
}

/** The audit level that decides what the tenant's log records (basic for a tenant no longer there) */
export async function auditLevelOf(trx: Tx, tenantId: string): Promise<AuditLevel> {
  const row = await findPolicyColumns(trx, tenantId);
  return row === undefined ? "basic" : effectivePolicy(row).auditLevel;
}

/** True when the tenant's policy requires every user to present a TOTP code (Authenticate enforces it) */
export async function mfaRequired(trx: Tx, tenantId: string): Promise<boolean> {
  const row = await findPolicyColumns(trx, tenantId);
  return row !== undefined && effectivePolicy(row).securityFeatures.mfa;
}
