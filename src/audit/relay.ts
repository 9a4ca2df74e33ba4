/**
 * Carries tenant_events (lifecycle moves, configuration updates, plan changes, API key creation and revocation,
 * written by the tenants slice in the same transaction as each change) into the audit log, once each. The
 * tenants slice then needs no knowledge of the audit log, and no path that writes a tenant event can bypass
 * it. A relayed event keeps its actor and time; `source_event_id` (unique) makes the relay idempotent.
 *
 * It runs on a timer and, for one tenant, before that tenant's log is read, so a reader always sees every
 * event committed before the read.
 */
import type { Database, Tx } from "../db/index.js";
import type { AuditLog } from "./log.js";
import type { AuditAction } from "./model.js";

interface TenantEventRow {
  id: string;
  tenant_id: string;
  event_type: string;
  actor: string;
  detail: Record<string, unknown> | null;
  created_at: Date;
}

const actionOf: Record<string, AuditAction> = {
  provisioned: "tenant.provisioned",
  suspended: "tenant.suspended",
  reactivated: "tenant.reactivated",
  cancelled: "tenant.cancelled",
  plan_changed: "tenant.plan_changed",
  updated: "tenant.updated",
  api_key_created: "api_key.created",
  api_key_revoked: "api_key.revoked",
};

const targetOf = (row: TenantEventRow): string => {
  const keyId = row.detail?.key_id;
  return typeof keyId === "string" ? `api_key:${keyId}` : `tenant:${row.tenant_id}`;
};

/** Events not relayed yet: of one tenant, or (tenantId undefined) of all (from `since` when given), oldest first */
async function pending(trx: Tx, tenantId: string | undefined, limit: number, since?: Date): Promise<TenantEventRow[]> {
  let q = trx("tenant_events as e")
    .select("e.*")
    .whereNotExists(function relayed() {
      this.select(trx.raw("1")).from("audit_events as a").whereRaw("a.source_event_id = e.id");
    });
  if (tenantId !== undefined) q = q.where("e.tenant_id", tenantId);
  if (since !== undefined) q = q.where("e.created_at", ">=", since);
  return (await q.orderBy([{ column: "e.created_at" }, { column: "e.id" }]).limit(limit)) as TenantEventRow[];
}

async function relayRows(trx: Tx, log: AuditLog, rows: readonly TenantEventRow[]): Promise<void> {
  for (const row of rows) {
    await log.append(trx, row.tenant_id, {
      action: actionOf[row.event_type] ?? "tenant.event",
      actor: row.actor,
      target: targetOf(row),
      detail: { event_type: row.event_type, ...(row.detail ?? {}) },
      occurredAt: row.created_at,
      sourceEventId: row.id,
    });
  }
}

/** Relays one tenant's pending events in that tenant's own transaction; how many */
export async function relayTenant(db: Database, log: AuditLog, tenantId: string): Promise<number> {
  return db.withTenant(tenantId, async (trx) => {
    const rows = await pending(trx, tenantId, 10_000);
    await relayRows(trx, log, rows);
    return rows.length;
  });
}

/**
 * An event's created_at is its transaction's start, so one committed late can be older than events already
 * relayed: the watermark trails the newest relayed event by this much, and the unique source_event_id keeps
 * the overlap from relaying anything twice.
 */
const WATERMARK_LAG_MS = 10 * 60_000;

/**
 * The platform's relay job over every tenant: each run reads only events from its watermark on (the first run
 * reads all), relays up to `limit` of them, and moves the watermark.
 */
export class AuditRelay {
  #since: Date | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: AuditLog,
    private readonly limit = 1_000,
  ) {}

  /** One run; how many events it relayed */
  async run(): Promise<number> {
    return this.db.asPlatform(async (trx) => {
      const rows = await pending(trx, undefined, this.limit, this.#since);
      await relayRows(trx, this.log, rows);
      const newest = this.#since === undefined ? await newestEvent(trx) : rows.at(-1)?.created_at;
      if (newest !== undefined && newest !== null) {
        const next = new Date(newest.getTime() - WATERMARK_LAG_MS);
        if (this.#since === undefined || next > this.#since) this.#since = next;
      }
      return rows.length;
    });
  }
}

async function newestEvent(trx: Tx): Promise<Date | null> {
  const row = (await trx("tenant_events").max({ newest: "created_at" }).first()) as { newest: Date | null } | undefined;
  return row?.newest ?? null;
}
