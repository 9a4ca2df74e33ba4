/** SQL of `tenant_scaling_state` and `tenant_scaling_events` (and the scale columns of `tenants` they extend) */
import type { Tx } from "../db/index.js";
import type { CreatedAtIdCursor } from "../grpc/page-token.js";
import type { ExecutorOutcome } from "./executor.js";

/** A tenant as the scaler sees it: scale bounds from `tenants`, cooldown state from `tenant_scaling_state` */
export interface ScalerRow {
  id: string;
  slug: string;
  scale_current: number;
  scale_min: number;
  scale_max: number;
  target_scale: number | null;
  utilization: number | null;
  last_scaled_at: Date | null;
  last_direction: "up" | "down" | null;
  last_decision: string | null;
  evaluated_at: Date | null;
}

const scalerColumns = [
  "t.id",
  "t.slug",
  "t.scale_current",
  "t.scale_min",
  "t.scale_max",
  "s.target_scale",
  "s.utilization",
  "s.last_scaled_at",
  "s.last_direction",
  "s.last_decision",
  "s.evaluated_at",
];

/** Active tenants with their scaler state (platform path) */
export async function activeScalers(trx: Tx): Promise<ScalerRow[]> {
  return (await trx("tenants as t").leftJoin("tenant_scaling_state as s", "s.tenant_id", "t.id").where("t.status", "active").select(scalerColumns)) as ScalerRow[];
}

/** One tenant's scaler (inside its own RLS transaction), or undefined when the tenant is not visible */
export async function scalerOf(trx: Tx, tenantId: string): Promise<ScalerRow | undefined> {
  return (await trx("tenants as t").leftJoin("tenant_scaling_state as s", "s.tenant_id", "t.id").where("t.id", tenantId).first(scalerColumns)) as ScalerRow | undefined;
}

export interface StateUpdate {
  targetScale: number;
  utilization: number;
  decision: string;
  evaluatedAt: Date;
  /** Set when the tenant's scale moved in this evaluation */
  scaled?: { at: Date; direction: "up" | "down" };
}

export async function saveState(trx: Tx, tenantId: string, u: StateUpdate): Promise<void> {
  const values: Record<string, unknown> = {
    tenant_id: tenantId,
    target_scale: u.targetScale,
    utilization: u.utilization,
    last_decision: u.decision,
    evaluated_at: u.evaluatedAt,
  };
  if (u.scaled) {
    values.last_scaled_at = u.scaled.at;
    values.last_direction = u.scaled.direction;
  }
  await trx("tenant_scaling_state").insert(values).onConflict("tenant_id").merge();
}

/** Records many evaluations that moved nothing (most tenants, every pass): one statement per 500 tenants */
export async function saveIdleStates(trx: Tx, states: ReadonlyArray<{ tenantId: string; update: Omit<StateUpdate, "scaled"> }>): Promise<void> {
  for (let i = 0; i < states.length; i += 500) {
    const rows = states.slice(i, i + 500).map(({ tenantId, update: u }) => ({
      tenant_id: tenantId,
      target_scale: u.targetScale,
      utilization: u.utilization,
      last_decision: u.decision,
      evaluated_at: u.evaluatedAt,
    }));
    await trx("tenant_scaling_state").insert(rows).onConflict("tenant_id").merge(["target_scale", "utilization", "last_decision", "evaluated_at"]);
  }
}

export interface ScalingEventRow {
  id: string;
  tenant_id: string;
  direction: "up" | "down";
  from_scale: number;
  to_scale: number;
  target_scale: number;
  utilization: number;
  reason: string;
  metrics: Record<string, unknown>;
  executors: ExecutorOutcome[];
  created_at: Date;
}

export async function insertScalingEvent(trx: Tx, e: Omit<ScalingEventRow, "id" | "created_at"> & { created_at: Date }): Promise<ScalingEventRow> {
  const [row] = (await trx("tenant_scaling_events")
    .insert({ ...e, metrics: JSON.stringify(e.metrics), executors: JSON.stringify(e.executors) })
    .returning("*")) as ScalingEventRow[];
  if (row === undefined) throw new Error("insert into tenant_scaling_events returned no row");
  return row;
}

/** A tenant's events, newest first, in (created_at, id) keyset pages */
export async function listScalingEvents(
  trx: Tx,
  tenantId: string,
  limit: number,
  after: CreatedAtIdCursor | undefined,
): Promise<Array<{ row: ScalingEventRow; cursor: CreatedAtIdCursor }>> {
  let q = trx("tenant_scaling_events").where({ tenant_id: tenantId }).select("*", trx.raw("created_at::text AS cursor_at"));
  if (after !== undefined) q = q.whereRaw("(created_at, id) < (?::timestamptz, ?::uuid)", [after.createdAt, after.id]);
  const rows = (await q.orderBy([{ column: "created_at", order: "desc" }, { column: "id", order: "desc" }]).limit(limit)) as Array<ScalingEventRow & { cursor_at: string }>;
  return rows.map(({ cursor_at, ...row }) => ({ row, cursor: { createdAt: cursor_at, id: row.id } }));
}
