import type { Tx } from "../db/index.js";
import type { AuditEventInput, AuditSink } from "./model.js";

/** An action as a handler reports it: the call supplies actor, request id and peer; the tenant defaults to the call's */
export type RequestAuditEvent = Omit<AuditEventInput, "actor" | "requestId" | "context"> & { tenantId?: string | undefined; actor?: string };

/** Records a handler's action: in `trx` when given (atomic with the change), else in a transaction of its own */
export type RequestAudit = (event: RequestAuditEvent, trx?: Tx) => Promise<void>;

/**
 * The `audit` of an RPC context. Without a sink (servers built by tests around one slice) or without a tenant
 * (platform-wide calls) there is no log to write to, and nothing is recorded.
 */
export function requestAudit(sink: AuditSink | undefined, call: { tenantId: string | undefined; actor: string; requestId: string; peer: string }): RequestAudit {
  return async ({ tenantId, actor, ...event }, trx) => {
    const tenant = tenantId ?? call.tenantId;
    if (sink === undefined || tenant === undefined) return;
    const input: AuditEventInput = { ...event, actor: actor ?? call.actor, requestId: call.requestId, context: { peer: call.peer } };
    await (trx === undefined ? sink.record(tenant, input) : sink.append(trx, tenant, input));
  };
}
