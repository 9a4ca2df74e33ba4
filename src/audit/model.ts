/**
 * What the audit log records. Every security-relevant action has an action name and the lowest audit level
 * that records it; a tenant's `audit_level` (its security policy) decides what goes into its log:
 *
 *   basic          failures, grants, keys, policy, lifecycle, API keys, purges — the facts, detail minimal
 *   detailed       + successful sign-ins, MFA enrolment, configuration updates, exports; with detail
 *   comprehensive  + every use of the tenant's keys (encrypt, decrypt, rewrap); with the
 *                    caller's network context
 */
import type { Tx } from "../db/index.js";

export const auditLevels = ["basic", "detailed", "comprehensive"] as const;
export type AuditLevel = (typeof auditLevels)[number];
export const isAuditLevel = (v: string): v is AuditLevel => (auditLevels as readonly string[]).includes(v);
export const levelRank: Readonly<Record<AuditLevel, number>> = { basic: 0, detailed: 1, comprehensive: 2 };

/** Every action name the platform records, with the lowest level that records it */
export const auditActions = {
  "auth.failure": "basic",
  "auth.success": "detailed",
  "user.created": "basic",
  "user.deleted": "basic",
  "user.role_changed": "basic",
  "user.permissions_changed": "basic",
  "user.updated": "detailed",
  "user.mfa_enrolled": "detailed",
  "user.mfa_enabled": "basic",
  "user.mfa_disabled": "basic",
  "api_key.created": "basic",
  "api_key.revoked": "basic",
  "key.created": "basic",
  "key.rotated": "basic",
  "key.min_decryption_version_changed": "basic",
  "key.kek_rotated": "basic",
  "key.destroyed": "basic",
  "policy.updated": "basic",
  "tenant.provisioned": "basic",
  "tenant.suspended": "basic",
  "tenant.reactivated": "basic",
  "tenant.cancelled": "basic",
  "tenant.plan_changed": "basic",
  "tenant.updated": "detailed",
  "tenant.event": "detailed",
  "tenant.crypto_shredded": "basic",
  "compliance.report_generated": "detailed",
  "compliance.remediated": "basic",
  "data.exported": "detailed",
  "data.encrypted": "comprehensive",
  "data.decrypted": "comprehensive",
  "data.rewrapped": "comprehensive",
} as const satisfies Record<string, AuditLevel>;
export type AuditAction = keyof typeof auditActions;

/** One action to record, before the log adds sequence, time and hashes */
export interface AuditEventInput {
  action: AuditAction;
  /** describePrincipal of who acted, or `system:<job>` */
  actor: string;
  outcome?: "success" | "failure";
  /** What was acted on: `user:<id>`, `api_key:<id>`, `key:v3`, … */
  target?: string;
  requestId?: string;
  /** Recorded at detailed and comprehensive (or always, when `essential`) */
  detail?: Record<string, unknown>;
  /** The detail IS the record (a deletion receipt, a policy diff): kept at every level */
  essential?: boolean;
  /** Recorded at comprehensive only: the caller's network context */
  context?: { peer?: string };
  /** Defaults to the log's clock */
  occurredAt?: Date;
  /** The tenant_events row this was relayed from (once each) */
  sourceEventId?: string;
}

/** A recorded event, as ListAuditEvents returns it */
export interface AuditEvent {
  id: string;
  tenantId: string;
  seq: number;
  occurredAt: Date;
  actor: string;
  action: string;
  outcome: "success" | "failure";
  target: string;
  requestId: string;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The first link of a tenant's chain that does not hold, or none */
export interface ChainVerification {
  ok: boolean;
  /** Events checked (all of them when ok) */
  checked: number;
  head: { seq: number; hash: string } | undefined;
  firstBroken: { seq: number; id: string; reason: BrokenLinkReason; description: string } | undefined;
}

export type BrokenLinkReason = "sequence_gap" | "prev_hash_mismatch" | "hash_mismatch" | "mac_mismatch";

/**
 * Where slices record actions: in the caller's transaction (atomic with the change it describes), or in a
 * transaction of its own (for failures, whose own transaction rolled back or never began).
 */
export interface AuditSink {
  append(trx: Tx, tenantId: string, event: AuditEventInput): Promise<void>;
  record(tenantId: string, event: AuditEventInput): Promise<void>;
}
