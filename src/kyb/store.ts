/**
 * SQL of the KYB slice. Every function takes the transaction `Database.withTenant` opened, so row-level
 * security scopes each statement to the tenant of the forwarded identity; nothing here touches the root knex
 * (on a single-connection database that would also wait forever behind the open transaction).
 */
import { randomUUID } from "node:crypto";
import type { Database, Tx } from "../db/index.js";
import type { FieldKeys } from "../security/fields.js";
import { openBusiness, sealBusiness } from "./sealed-fields.js";
import type { Business, BusinessDetails, BusinessStatus, NewBusiness } from "./model.js";
import type { CreatedAtIdCursor as BusinessCursor } from "../grpc/page-token.js";

/** A `businesses` row as PostgreSQL returns it */
interface BusinessRow {
  id: string;
  tenant_id: string;
  name: string;
  registration_number: string | null;
  country: string;
  industry_code: string | null;
  status: BusinessStatus;
  risk_score: number | null;
  details: BusinessDetails | null;
  /** Tax identifiers and beneficial owners, sealed (sealed-fields.ts) */
  sealed_details: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns of the tenant's own `tenants` row that KYB decisions read */
export interface TenantLimits {
  readonly status: string;
  readonly enabledModules: readonly string[];
  /** null: no limit */
  readonly maxBusinesses: number | null;
}

const columns = [
  "id", "tenant_id", "name", "registration_number", "country", "industry_code", "status", "risk_score", "details",
  "sealed_details", "created_at", "updated_at",
] as const;

function toBusiness(row: BusinessRow, keys: FieldKeys): Business {
  const opened = openBusiness(keys, row);
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    registrationNumber: opened.registrationNumber,
    country: row.country,
    industryCode: row.industry_code,
    status: row.status,
    riskScore: row.risk_score,
    details: opened.details,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The tenant's own row (RLS shows a tenant only its own). With `lock`, the row is held FOR NO KEY UPDATE until
 * the transaction ends: creates of one tenant then run one after another, so count-then-insert cannot
 * overshoot max_businesses. NO KEY UPDATE (not UPDATE) leaves the row's key-share locks free, so inserts into
 * other tables that reference the tenant are not blocked meanwhile.
 */
export async function readTenantLimits(trx: Tx, tenantId: string, options: { lock: boolean }): Promise<TenantLimits | undefined> {
  const q = trx("tenants").select("status", "enabled_modules", "max_businesses").where({ id: tenantId });
  const row = (await (options.lock ? q.forNoKeyUpdate() : q).first()) as { status: string; enabled_modules: unknown; max_businesses: number | null } | undefined;
  if (row === undefined) return undefined;
  const modules = Array.isArray(row.enabled_modules) ? row.enabled_modules.filter((m): m is string => typeof m === "string") : [];
  return { status: row.status, enabledModules: modules, maxBusinesses: row.max_businesses };
}

/** Live (not soft-deleted) businesses of the tenant: what max_businesses counts */
export async function countBusinesses(trx: Tx, tenantId: string): Promise<number> {
  const row = (await trx("businesses").where({ tenant_id: tenantId }).whereNull("deleted_at").count({ n: "*" }).first()) as
    | { n: number | string }
    | undefined;
  return Number(row?.n ?? 0);
}

export async function insertBusiness(trx: Tx, tenantId: string, input: NewBusiness, keys: FieldKeys): Promise<Business> {
  // The id is made here, not by the database: the sealed values' contexts name it before the row exists.
  const id = randomUUID();
  const sealed = sealBusiness(keys, id, input.registrationNumber, input.details);
  const [row] = (await trx("businesses")
    .insert({
      id,
      tenant_id: tenantId,
      name: input.name,
      registration_number: sealed.registration_number,
      country: input.country,
      details: JSON.stringify(sealed.details),
      sealed_details: sealed.sealed_details,
    })
    .returning(columns)) as BusinessRow[];
  if (row === undefined) throw new Error("businesses insert returned no row");
  return toBusiness(row, keys);
}

const selectLiveBusiness = `SELECT ${columns.join(", ")} FROM businesses WHERE id = ? AND deleted_at IS NULL LIMIT 1`;

/**
 * `findBusiness` outside a transaction, in one round trip (Database.queryAsTenant): the hot read of the
 * platform. Row-level security shows only the tenant's own rows, as in `findBusiness`.
 */
export async function readBusiness(db: Database, tenantId: string, id: string, keys: FieldKeys): Promise<Business | undefined> {
  const [row] = await db.queryAsTenant<BusinessRow>(tenantId, selectLiveBusiness, [id]);
  return row === undefined ? undefined : toBusiness(row, keys);
}

export async function findBusiness(trx: Tx, id: string, keys: FieldKeys): Promise<Business | undefined> {
  const row = (await trx("businesses").select(columns).where({ id }).whereNull("deleted_at").first()) as BusinessRow | undefined;
  return row === undefined ? undefined : toBusiness(row, keys);
}

/**
 * Up to `limit` businesses after `after` in (created_at, id) order, each with its own cursor. Ordering by a pair
 * with a unique tail keeps pages stable while businesses are added; the cursor's created_at travels as text
 * because a JS Date would drop PostgreSQL's microseconds and repeat or skip rows at a page boundary.
 */
export async function listBusinesses(
  trx: Tx,
  tenantId: string,
  query: { after: BusinessCursor | undefined; limit: number },
  keys: FieldKeys,
): Promise<Array<{ business: Business; cursor: BusinessCursor }>> {
  let q = trx("businesses")
    .select([...columns, trx.raw("created_at::text AS cursor_created_at")])
    .where({ tenant_id: tenantId })
    .whereNull("deleted_at");
  if (query.after !== undefined) q = q.whereRaw("(created_at, id) > (?::timestamptz, ?::uuid)", [query.after.createdAt, query.after.id]);
  const rows = (await q.orderBy([{ column: "created_at" }, { column: "id" }]).limit(query.limit)) as Array<
    BusinessRow & { cursor_created_at: string }
  >;
  return rows.map(({ cursor_created_at, ...row }) => ({ business: toBusiness(row, keys), cursor: { createdAt: cursor_created_at, id: row.id } }));
}

/** Sets the columns an operation computed; undefined when the business is gone */
export async function updateBusiness(
  trx: Tx,
  id: string,
  patch: { industry_code?: string; risk_score?: number },
  keys: FieldKeys,
): Promise<Business | undefined> {
  const [row] = (await trx("businesses").where({ id }).whereNull("deleted_at").update(patch).returning(columns)) as BusinessRow[];
  return row === undefined ? undefined : toBusiness(row, keys);
}
