/**
 * The tenant-isolated, append-only, tamper-evident audit log (table audit_events).
 *
 * Appends for one tenant are serialized by a transaction-scoped advisory lock on that tenant: the appender
 * reads the chain's head and writes the next link while no other appender of the tenant can, and the lock is
 * held until its transaction commits, so links are committed in order and the chain never forks. (The
 * primary key (tenant_id, seq) would refuse a fork anyway; the lock makes appenders wait instead of fail.)
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../auth/clock.js";
import type { Database, Tx } from "../db/index.js";
import { GENESIS_HASH, linkHash, macInput, normalizeDetail } from "./chain.js";
import { auditActions, levelRank, type AuditEvent, type AuditEventInput, type AuditLevel, type AuditSink, type ChainVerification } from "./model.js";

/** Advisory-lock class of audit appends (the second key is the tenant's hash) */
const AUDIT_LOCK_CLASS = 7424657;
const VERIFY_BATCH = 1_000;

interface AuditRow {
  id: string;
  tenant_id: string;
  seq: number | string;
  occurred_at: Date;
  actor: string;
  action: string;
  outcome: "success" | "failure";
  target: string;
  request_id: string;
  detail: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
  mac: string;
}

const toEvent = (r: AuditRow): AuditEvent => ({
  id: r.id,
  tenantId: r.tenant_id,
  seq: Number(r.seq),
  occurredAt: r.occurred_at,
  actor: r.actor,
  action: r.action,
  outcome: r.outcome,
  target: r.target,
  requestId: r.request_id,
  detail: r.detail ?? {},
  prevHash: r.prev_hash,
  hash: r.hash,
});

export interface AuditLogOptions {
  db: Database;
  clock: Clock;
  /** MAC under the key held outside the database (KeyStore.mac) */
  mac(data: Buffer): Promise<Buffer>;
  /** The tenant's audit level (its security policy), read in the appending transaction */
  levelOf(trx: Tx, tenantId: string): Promise<AuditLevel>;
}

export class AuditLog implements AuditSink {
  constructor(private readonly options: AuditLogOptions) {}

  async append(trx: Tx, tenantId: string, input: AuditEventInput): Promise<void> {
    const level = await this.options.levelOf(trx, tenantId);
    if (levelRank[auditActions[input.action]] > levelRank[level]) return;
    const detail = normalizeDetail({
      ...(input.essential === true || level !== "basic" ? input.detail : {}),
      ...(level === "comprehensive" && input.context?.peer ? { peer: input.context.peer } : {}),
    });
    await trx.raw("SELECT pg_advisory_xact_lock(?::int, hashtext(?))", [AUDIT_LOCK_CLASS, tenantId]);
    if (input.sourceEventId !== undefined) {
      // Relayed events: the lock makes this check and the insert below one step.
      const seen = await trx("audit_events").where({ source_event_id: input.sourceEventId }).first("id");
      if (seen !== undefined) return;
    }
    const head = (await trx("audit_events").where({ tenant_id: tenantId }).orderBy("seq", "desc").first("seq", "hash")) as
      | { seq: number | string; hash: string }
      | undefined;
    const seq = head === undefined ? 1 : Number(head.seq) + 1;
    // Milliseconds only: what PostgreSQL gives back must hash the same as what was hashed here.
    const occurredAt = new Date(Math.floor((input.occurredAt?.getTime() ?? this.options.clock.now())));
    const fields = {
      tenantId,
      seq,
      occurredAt,
      actor: input.actor.slice(0, 255),
      action: input.action,
      outcome: input.outcome ?? "success",
      target: (input.target ?? "").slice(0, 255),
      requestId: (input.requestId ?? "").slice(0, 255),
      detail,
      prevHash: head?.hash ?? GENESIS_HASH,
    };
    const hash = linkHash(fields);
    const mac = (await this.options.mac(macInput(tenantId, seq, hash))).toString("hex");
    await trx("audit_events").insert({
      id: randomUUID(),
      tenant_id: tenantId,
      seq,
      occurred_at: occurredAt,
      actor: fields.actor,
      action: fields.action,
      outcome: fields.outcome,
      target: fields.target,
      request_id: fields.requestId,
      detail: JSON.stringify(detail),
      source_event_id: input.sourceEventId ?? null,
      prev_hash: fields.prevHash,
      hash,
      mac,
    });
  }

  record(tenantId: string, input: AuditEventInput): Promise<void> {
    return this.options.db.withTenant(tenantId, (trx) => this.append(trx, tenantId, input));
  }

  /** Events in chain order after `afterSeq`, at most `limit`, optionally of one action */
  async list(trx: Tx, tenantId: string, query: { afterSeq: number; limit: number; action?: string | undefined }): Promise<AuditEvent[]> {
    let q = trx<AuditRow>("audit_events").where({ tenant_id: tenantId }).andWhere("seq", ">", query.afterSeq);
    if (query.action !== undefined && query.action !== "") q = q.andWhere({ action: query.action });
    return ((await q.orderBy("seq").limit(query.limit)) as AuditRow[]).map(toEvent);
  }

  /** Walks the whole chain and names the first link that does not hold */
  async verify(trx: Tx, tenantId: string): Promise<ChainVerification> {
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    for (;;) {
      const rows = (await trx<AuditRow>("audit_events")
        .where({ tenant_id: tenantId })
        .andWhere("seq", ">=", expectedSeq)
        .orderBy("seq")
        .limit(VERIFY_BATCH)) as AuditRow[];
      for (const row of rows) {
        const e = toEvent(row);
        const broken = (reason: NonNullable<ChainVerification["firstBroken"]>["reason"], description: string): ChainVerification => ({
          ok: false,
          checked,
          head: undefined,
          firstBroken: { seq: e.seq, id: e.id, reason, description },
        });
        if (e.seq !== expectedSeq) return broken("sequence_gap", `expected event ${expectedSeq}, found ${e.seq}: events were removed`);
        if (e.prevHash !== prevHash) return broken("prev_hash_mismatch", `event ${e.seq} does not follow event ${e.seq - 1}`);
        if (linkHash({ ...e, prevHash: e.prevHash }) !== e.hash) return broken("hash_mismatch", `event ${e.seq} was altered after it was recorded`);
        const mac = (await this.options.mac(macInput(tenantId, e.seq, e.hash))).toString("hex");
        if (mac !== row.mac) return broken("mac_mismatch", `event ${e.seq} was rewritten with recomputed hashes`);
        checked += 1;
        expectedSeq = e.seq + 1;
        prevHash = e.hash;
      }
      if (rows.length < VERIFY_BATCH) break;
    }
    return { ok: true, checked, head: checked === 0 ? undefined : { seq: expectedSeq - 1, hash: prevHash }, firstBroken: undefined };
  }
}
