/**
 * SecurityService's audit-log reads. Both first relay the tenant's pending tenant events (audit/relay.ts), so a
 * reader sees every lifecycle and API-key change committed before the read.
 */
import { relayTenant, type AuditEvent, type ChainVerification } from "../audit/index.js";
import type { Database } from "../db/index.js";
import { z } from "zod";
import { decodePageToken, encodePageToken } from "../grpc/page-token.js";
import type { RpcContext } from "../grpc/index.js";
import type { SecurityRuntime } from "./runtime.js";
import { tenantOf } from "./service.js";

export const DEFAULT_AUDIT_PAGE = 100;
export const MAX_AUDIT_PAGE = 1_000;

/** The position is the last sequence number shown: the chain order is stable and append-only */
const seqCursor = z.object({ seq: z.number().int().min(0) });

export async function listAuditEvents(
  deps: { db: Database; runtime: SecurityRuntime },
  ctx: RpcContext,
  input: { pageSize: number; pageToken: string; action: string },
): Promise<{ events: AuditEvent[]; nextPageToken: string }> {
  const tenantId = tenantOf(ctx);
  const limit = input.pageSize === 0 ? DEFAULT_AUDIT_PAGE : Math.min(input.pageSize, MAX_AUDIT_PAGE);
  await relayTenant(deps.db, deps.runtime.audit, tenantId);
  const filters = [tenantId, input.action];
  const afterSeq = input.pageToken === "" ? 0 : decodePageToken(input.pageToken, seqCursor, filters).seq;
  const rows = await ctx.inTenant((trx) => deps.runtime.audit.list(trx, tenantId, { afterSeq, limit: limit + 1, action: input.action }));
  const page = rows.slice(0, limit);
  const last = rows.length > limit ? page.at(-1) : undefined;
  // Reading the log out is a data export, and audited as one (from the detailed level).
  await ctx.audit({ action: "data.exported", target: `tenant:${tenantId}`, detail: { dataset: "audit_log", events: page.length, action: input.action } });
  return { events: page, nextPageToken: last === undefined ? "" : encodePageToken({ seq: last.seq }, filters) };
}

export async function verifyAuditLog(deps: { db: Database; runtime: SecurityRuntime }, ctx: RpcContext): Promise<ChainVerification> {
  const tenantId = tenantOf(ctx);
  await relayTenant(deps.db, deps.runtime.audit, tenantId);
  return ctx.inTenant((trx) => deps.runtime.audit.verify(trx, tenantId));
}
