/** The audit log: what other parts of tenantmesh record into and read from it through */
export { AuditLog, type AuditLogOptions } from "./log.js";
export { AuditRelay, relayTenant } from "./relay.js";
export { requestAudit, type RequestAudit, type RequestAuditEvent } from "./request.js";
export { canonicalJson, GENESIS_HASH } from "./chain.js";
export {
  auditActions,
  auditLevels,
  isAuditLevel,
  levelRank,
  type AuditAction,
  type AuditEvent,
  type AuditEventInput,
  type AuditLevel,
  type AuditSink,
  type BrokenLinkReason,
  type ChainVerification,
} from "./model.js";
