/**
 * SQL for `tenants` and `tenant_events`. Every function takes the transaction it runs in (`withTenant` for a
 * tenant's own row, `asPlatform` for operator work); none opens its own.
 */
import type { Tx } from "../db/index.js";
import { TenantMeshError } from "../errors/index.js";
import type { PlanType } from "../plans/index.js";
import { jsonb, type PlanColumns, type TenantRow, type TenantStatus } from "./model.js";

/** What a new tenant row is made of; the plan's columns come from planColumns */
export interface NewTenant extends PlanColumns {
  name: string;
  slug: string;
  status: TenantStatus;
  scale_current: number;
  billing_info: Record<string, unknown> | null;
  billing_cycle: string;
  idempotency_key: string | null;
}

/** Column → value for an UPDATE; JSON columns are encoded by updateTenant */
export type TenantPatch = Partial<Omit<TenantRow, "id" | "slug" | "created_at" | "updated_at" | "idempotency_key">>;

const jsonColumns = new Set([
  "features",
  "enabled_modules",
  "billing_info",
  "usage_metrics",
  "security_policy",
  "compliance_requirements",
  "network_restrictions",
]);

function encode(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = jsonColumns.has(k) && v !== null && v !== undefined ? jsonb(v) : v;
  return out;
}

const uniqueConstraint = (err: unknown): string | undefined =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === "23505"
    ? String((err as { constraint?: unknown; detail?: unknown }).constraint ?? (err as { detail?: unknown }).detail ?? "")
    : undefined;

/** Thrown by insertTenant when the idempotency key is taken: the caller replays the earlier request */
export class IdempotencyKeyTaken extends Error {}

/** Inserts a tenant; a taken slug is ALREADY_EXISTS, a taken idempotency key IdempotencyKeyTaken */
export async function insertTenant(trx: Tx, tenant: NewTenant): Promise<TenantRow> {
  try {
    const [row] = await trx<TenantRow>("tenants")
      .insert(encode({ ...tenant }))
      .returning("*");
    if (row === undefined) throw new Error("insert into tenants returned no row");
    return row;
  } catch (err) {
    const constraint = uniqueConstraint(err);
    if (constraint?.includes("idempotency_key")) throw new IdempotencyKeyTaken();
    if (constraint !== undefined) throw slugTaken(tenant.slug, err);
    throw err;
  }
}

export const slugTaken = (slug: string, cause?: unknown): TenantMeshError =>
  new TenantMeshError("TM_ERR_ALREADY_EXISTS", `a tenant with slug '${slug}' already exists`, {
    violations: [{ field: "slug", description: "already in use" }],
    cause,
  });

export async function findTenant(trx: Tx, id: string, options: { forUpdate?: boolean } = {}): Promise<TenantRow | undefined> {
  const q = trx<TenantRow>("tenants").where({ id });
  return options.forUpdate === true ? q.forUpdate().first() : q.first();
}

export async function findTenantIdBySlug(trx: Tx, slug: string): Promise<string | undefined> {
  const row = await trx<TenantRow>("tenants").where({ slug }).first("id");
  return row?.id;
}

export async function findTenantByIdempotencyKey(trx: Tx, key: string): Promise<TenantRow | undefined> {
  return trx<TenantRow>("tenants").where({ idempotency_key: key }).first();
}

export async function slugExists(trx: Tx, slug: string): Promise<boolean> {
  return (await findTenantIdBySlug(trx, slug)) !== undefined;
}

/** Applies `patch` and returns the new row (undefined when the row is not visible in this transaction) */
export async function updateTenant(trx: Tx, id: string, patch: TenantPatch): Promise<TenantRow | undefined> {
  const [row] = await trx<TenantRow>("tenants").where({ id }).update(encode(patch)).returning("*");
  return row;
}

/** Hard delete: only provisioning's rollback does this (foreign keys cascade to users, keys, events, changes) */
export async function deleteTenant(trx: Tx, id: string): Promise<void> {
  await trx("tenants").where({ id }).delete();
}

/** The keyset of a page: the last row's created_at (as PostgreSQL text, microseconds intact) and id */
export interface TenantCursor {
  createdAt: string;
  id: string;
}

export interface ListQuery {
  limit: number;
  after: TenantCursor | undefined;
  status: TenantStatus | undefined;
  planType: PlanType | undefined;
}

/**
 * One page in (created_at, id) order, each row with its cursor. Ordering by a pair with a unique tail keeps
 * pages stable while tenants are added; a cursor's created_at travels as text because a JS Date would drop
 * the microseconds and repeat or skip rows.
 */
export async function listTenants(trx: Tx, query: ListQuery): Promise<Array<{ row: TenantRow; cursor: TenantCursor }>> {
  let q = trx("tenants").select("*", trx.raw("created_at::text AS cursor_created_at"));
  if (query.status !== undefined) q = q.where({ status: query.status });
  if (query.planType !== undefined) q = q.where({ plan_type: query.planType });
  if (query.after !== undefined) q = q.whereRaw("(created_at, id) > (?::timestamptz, ?::uuid)", [query.after.createdAt, query.after.id]);
  const rows = (await q.orderBy([{ column: "created_at" }, { column: "id" }]).limit(query.limit)) as Array<TenantRow & { cursor_created_at: string }>;
  return rows.map(({ cursor_created_at, ...row }) => ({ row, cursor: { createdAt: cursor_created_at, id: row.id } }));
}

export interface TenantEvent {
  tenantId: string;
  /** provisioned, suspended, reactivated, cancelled, updated, plan_changed, api_key_created, api_key_revoked */
  type: string;
  /** describePrincipal of who did it */
  actor: string;
  detail?: Record<string, unknown>;
}

/** Records a lifecycle or configuration change; always in the transaction that made the change */
export async function insertTenantEvent(trx: Tx, event: TenantEvent): Promise<void> {
  await trx("tenant_events").insert({
    tenant_id: event.tenantId,
    event_type: event.type,
    actor: event.actor,
    detail: jsonb(event.detail ?? {}),
  });
}
