/** Domain values → SecurityService wire messages (ts-proto camelCase) */
import type { AuditEvent, ChainVerification } from "../audit/index.js";
import type {
  AuditEvent as AuditEventMessage,
  DeletionReceipt as DeletionReceiptMessage,
  KeyInfo as KeyInfoMessage,
  SecurityPolicy as SecurityPolicyMessage,
  VerifyAuditLogResponse,
} from "../gen/tenantmesh/v1/security.js";
import type { KeyInfo } from "./keyring.js";
import { notEnforced, type SecurityPolicy } from "./policy.js";
import type { DeletionReceipt } from "./shred.js";

export function toPolicyMessage(p: SecurityPolicy): SecurityPolicyMessage {
  return {
    tenantId: p.tenantId,
    encryptionLevel: p.encryptionLevel,
    accessControlLevel: p.accessControlLevel,
    auditLevel: p.auditLevel,
    dataRetentionDays: p.dataRetentionDays,
    complianceStandards: [...p.complianceStandards],
    securityFeatures: { ...p.securityFeatures },
    networkRestrictions: [...p.networkRestrictions],
    countryRestrictions: [...p.countryRestrictions],
    keyRotationDays: p.keyRotationDays,
    updatedAt: p.updatedAt,
    updatedBy: p.updatedBy,
    notEnforced: notEnforced(p),
  };
}

export function toKeyInfoMessage(k: KeyInfo, keystore: string): KeyInfoMessage {
  return {
    tenantId: k.tenantId,
    latestVersion: k.latestVersion,
    minDecryptionVersion: k.minDecryptionVersion,
    versions: k.versions.map((v) => ({ version: v.version, createdAt: v.createdAt })),
    rotatedAt: k.rotatedAt ?? undefined,
    shreddedAt: k.shreddedAt ?? undefined,
    keystore,
  };
}

export function toAuditEventMessage(e: AuditEvent): AuditEventMessage {
  return {
    id: e.id,
    tenantId: e.tenantId,
    seq: String(e.seq),
    occurredAt: e.occurredAt,
    actor: e.actor,
    action: e.action,
    outcome: e.outcome,
    target: e.target,
    requestId: e.requestId,
    detailJson: JSON.stringify(e.detail),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

export function toVerifyMessage(v: ChainVerification): VerifyAuditLogResponse {
  return {
    ok: v.ok,
    checked: String(v.checked),
    headSeq: String(v.head?.seq ?? 0),
    headHash: v.head?.hash ?? "",
    firstBrokenSeq: String(v.firstBroken?.seq ?? 0),
    firstBrokenId: v.firstBroken?.id ?? "",
    reason: v.firstBroken?.reason ?? "",
    description: v.firstBroken?.description ?? "",
  };
}

export function toReceiptMessage(r: DeletionReceipt): DeletionReceiptMessage {
  return {
    receiptId: r.receiptId,
    tenantId: r.tenantId,
    destroyed: [...r.destroyed],
    keyEncryptionKeys: r.keyEncryptionKeys,
    dataKeyVersions: [...r.dataKeyVersions],
    keyIdsSha256: r.keyIdsSha256,
    destroyedAt: r.destroyedAt,
    destroyedBy: r.destroyedBy,
    reason: r.reason,
    auditSeq: String(r.auditSeq),
  };
}
