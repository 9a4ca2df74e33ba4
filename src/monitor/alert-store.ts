import type { Tx } from "../db/index.js";
import type { Alert } from "../gen/tenantmesh/v1/monitor.js";
import type { AlertCondition } from "./alert-rules.js";
import type { CreatedAtIdCursor } from "../grpc/page-token.js";

/** A row of `tenant_alerts` */
export interface AlertRow {
  id: string;
  tenant_id: string;
  kind: string;
  resource: string;
  severity: string;
  message: string;
  value: number;
  threshold: number;
  raised_at: Date;
  cleared_at: Date | null;
}

export const toAlertMessage = (r: AlertRow): Alert => ({
  id: r.id,
  tenantId: r.tenant_id,
  kind: r.kind,
  resource: r.resource,
  severity: r.severity,
  message: r.message,
  value: Number(r.value),
  threshold: Number(r.threshold),
  raisedAt: r.raised_at,
  clearedAt: r.cleared_at ?? undefined,
});

export interface AlertChanges {
  raised: AlertRow[];
  cleared: AlertRow[];
}

/**
 * Applies one evaluation of a tenant: an active condition raises its alert unless one is open (then the open
 * one takes the latest value, message and severity); an inactive one clears the open alert, if any.
 */
export async function applyAlertConditions(trx: Tx, tenantId: string, conditions: readonly AlertCondition[], now: Date): Promise<AlertChanges> {
  const changes: AlertChanges = { raised: [], cleared: [] };
  for (const c of conditions) {
    const key = { tenant_id: tenantId, kind: c.kind, resource: c.resource };
    if (!c.active) {
      const cleared = (await trx("tenant_alerts").where(key).whereNull("cleared_at").update({ cleared_at: now }).returning("*")) as AlertRow[];
      changes.cleared.push(...cleared);
      continue;
    }
    const updated = (await trx("tenant_alerts")
      .where(key)
      .whereNull("cleared_at")
      .update({ value: c.value, message: c.message, severity: c.severity, threshold: c.threshold })
      .returning("id")) as unknown[];
    if (updated.length > 0) continue;
    const insert = trx("tenant_alerts")
      .insert({ ...key, severity: c.severity, message: c.message, value: c.value, threshold: c.threshold, raised_at: now })
      .toSQL();
    // A concurrent evaluator (another control-plane replica) may have raised it first: that one stands.
    const raised = (await trx.raw(`${insert.sql} ON CONFLICT (tenant_id, kind, resource) WHERE cleared_at IS NULL DO NOTHING RETURNING *`, insert.bindings)) as { rows: AlertRow[] };
    changes.raised.push(...raised.rows);
  }
  return changes;
}

/** Alerts newest first, in (raised_at, id) keyset pages; one tenant's, or every tenant's on the platform path */
export async function listAlerts(
  trx: Tx,
  query: { tenantId: string | undefined; includeCleared: boolean; limit: number; after: CreatedAtIdCursor | undefined },
): Promise<Array<{ row: AlertRow; cursor: CreatedAtIdCursor }>> {
  let q = trx("tenant_alerts").select("*", trx.raw("raised_at::text AS cursor_at"));
  if (query.tenantId !== undefined) q = q.where({ tenant_id: query.tenantId });
  if (!query.includeCleared) q = q.whereNull("cleared_at");
  if (query.after !== undefined) q = q.whereRaw("(raised_at, id) < (?::timestamptz, ?::uuid)", [query.after.createdAt, query.after.id]);
  const rows = (await q.orderBy([{ column: "raised_at", order: "desc" }, { column: "id", order: "desc" }]).limit(query.limit)) as Array<AlertRow & { cursor_at: string }>;
  return rows.map(({ cursor_at, ...row }) => ({ row, cursor: { createdAt: cursor_at, id: row.id } }));
}

/** Open alerts per tenant (for `tenantmesh top`) */
export async function openAlertCounts(trx: Tx): Promise<Map<string, number>> {
  const rows = (await trx("tenant_alerts").whereNull("cleared_at").groupBy("tenant_id").select("tenant_id", trx.raw("count(*)::int AS n"))) as Array<{ tenant_id: string; n: number }>;
  return new Map(rows.map((r) => [r.tenant_id, Number(r.n)]));
}
