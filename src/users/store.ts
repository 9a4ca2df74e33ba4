/**
 * SQL for the `users` table. Every function takes the transaction it runs in (from `withTenant`, so row-level
 * security scopes it to one tenant, or from `asPlatform` during provisioning); none opens its own.
 */
import type { Role } from "../authz/index.js";
import type { Tx } from "../db/index.js";
import { TenantMeshError } from "../errors/index.js";
import { normalizeEmail, type UserRow } from "./model.js";

export { normalizeEmail, toUserMessage, type UserRow } from "./model.js";

/** What a new user is made of; optional fields take the column defaults */
export interface NewUser {
  tenantId: string;
  /** Stored lower-cased and trimmed (see normalizeEmail) */
  email: string;
  /** An encoded hash from hashPassword, never a password */
  passwordHash: string;
  role: Role;
  permissions?: readonly string[];
  tenantPermissions?: Record<string, boolean>;
  timezone?: string;
  language?: string;
  preferences?: Record<string, unknown>;
}

const isUniqueViolation = (err: unknown): boolean =>
  typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === "23505";

/**
 * Inserts a user and returns its row. A duplicate email in the tenant is ALREADY_EXISTS. Quotas (max_users)
 * are the caller's part: lock the tenant first (`lockTenantForUsers`) so parallel inserts cannot overshoot.
 * JSONB values are passed as JSON text: node-postgres would send a JS array as a PostgreSQL array literal.
 */
export async function insertUser(trx: Tx, input: NewUser): Promise<UserRow> {
  try {
    const [row] = await trx<UserRow>("users")
      .insert({
        tenant_id: input.tenantId,
        email: normalizeEmail(input.email),
        password_hash: input.passwordHash,
        role: input.role,
        permissions: JSON.stringify(input.permissions ?? []),
        tenant_permissions: JSON.stringify(input.tenantPermissions ?? {}),
        timezone: input.timezone ?? "UTC",
        language: input.language ?? "en",
        preferences: JSON.stringify(input.preferences ?? {}),
      } as Record<string, unknown>)
      .returning("*");
    if (row === undefined) throw new Error("insert into users returned no row");
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new TenantMeshError("TM_ERR_ALREADY_EXISTS", "a user with this email already exists in the tenant", {
        cause: err,
        violations: [{ field: "email", description: "already in use in this tenant" }],
      });
    }
    throw err;
  }
}

/** One user by id; soft-deleted users only when asked for */
export async function findUserById(trx: Tx, id: string, options: { includeDeleted?: boolean; forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  let q = trx<UserRow>("users").where({ id });
  if (options.includeDeleted !== true) q = q.whereNull("deleted_at");
  if (options.forUpdate === true) q = q.forUpdate();
  return q.first();
}

/** The live (not deleted) user with this email in the transaction's tenant */
export async function findUserByEmail(trx: Tx, email: string): Promise<UserRow | undefined> {
  return trx<UserRow>("users").where({ email: normalizeEmail(email) }).whereNull("deleted_at").first();
}

/** The fields UpdateUser may change, in column names */
export interface UserPatch {
  role?: Role;
  permissions?: readonly string[];
  tenant_permissions?: Record<string, boolean>;
  preferences?: Record<string, unknown>;
  timezone?: string;
  language?: string;
}

/** Applies a patch to a live user and returns the new row (undefined when there is no such live user) */
export async function updateUser(trx: Tx, id: string, patch: UserPatch): Promise<UserRow | undefined> {
  const values: Record<string, unknown> = {};
  if (patch.role !== undefined) values.role = patch.role;
  if (patch.permissions !== undefined) values.permissions = JSON.stringify(patch.permissions);
  if (patch.tenant_permissions !== undefined) values.tenant_permissions = JSON.stringify(patch.tenant_permissions);
  if (patch.preferences !== undefined) values.preferences = JSON.stringify(patch.preferences);
  if (patch.timezone !== undefined) values.timezone = patch.timezone;
  if (patch.language !== undefined) values.language = patch.language;
  if (Object.keys(values).length === 0) return findUserById(trx, id);
  const [row] = await trx<UserRow>("users").where({ id }).whereNull("deleted_at").update(values).returning("*");
  return row;
}

/** Sets columns of a live user that are not part of the public patch (MFA, reset token, login tracking) */
export async function setUserColumns(trx: Tx, id: string, values: Partial<Record<keyof UserRow, unknown>>): Promise<number> {
  const rows = await trx("users").where({ id }).whereNull("deleted_at").update(values).returning("id");
  return rows.length;
}

/** Soft-deletes a live user; answers whether a row changed. Its reset token goes too. */
export async function softDeleteUser(trx: Tx, id: string, at: Date): Promise<boolean> {
  const rows = await trx("users")
    .where({ id })
    .whereNull("deleted_at")
    .update({ deleted_at: at, password_reset_token: null, password_reset_expires: null })
    .returning("id");
  return rows.length > 0;
}

/** The tenant columns the users slice reads: status, quotas and the session cut-off */
export interface TenantUserLimits {
  id: string;
  slug: string;
  status: "provisioning" | "active" | "suspended" | "cancelled";
  max_users: number | null;
  concurrent_users: number;
  sessions_valid_after: Date | null;
}

/**
 * Locks the tenant's row (`FOR UPDATE`) for the rest of the transaction and returns its limits. Every writer
 * of a per-tenant invariant (max_users, the last admin, concurrent sessions) takes this lock first, so two
 * transactions checking the same invariant run one after the other.
 */
export async function lockTenantForUsers(trx: Tx, tenantId: string): Promise<TenantUserLimits> {
  const row = await trx<TenantUserLimits>("tenants")
    .select("id", "slug", "status", "max_users", "concurrent_users", "sessions_valid_after")
    .where({ id: tenantId })
    .whereNull("deleted_at")
    .forUpdate()
    .first();
  if (row === undefined) throw new TenantMeshError("TM_ERR_NOT_FOUND", "tenant not found");
  return row;
}

const countOf = (rows: Array<Record<string, unknown>>): number => Number(rows[0]?.n ?? 0);

/** Live (not deleted) users of the transaction's tenant: what max_users limits */
export async function countLiveUsers(trx: Tx, tenantId: string): Promise<number> {
  return countOf(await trx("users").where({ tenant_id: tenantId }).whereNull("deleted_at").count({ n: "*" }));
}

/** Live admins of the tenant: the last one may be neither demoted nor deleted */
export async function countLiveAdmins(trx: Tx, tenantId: string): Promise<number> {
  return countOf(await trx("users").where({ tenant_id: tenantId, role: "admin" }).whereNull("deleted_at").count({ n: "*" }));
}

/** Filters and position of one ListUsers page; the order is by email, which is unique per tenant */
export interface UserPageQuery {
  tenantId: string;
  limit: number;
  afterEmail: string | undefined;
  role: Role | undefined;
  includeDeleted: boolean;
}

/** One page of users in email order, fetching one extra row to know whether another page follows */
export async function listUsersPage(trx: Tx, q: UserPageQuery): Promise<{ rows: UserRow[]; more: boolean }> {
  let query = trx<UserRow>("users").where({ tenant_id: q.tenantId });
  if (!q.includeDeleted) query = query.whereNull("deleted_at");
  if (q.role !== undefined) query = query.where({ role: q.role });
  if (q.afterEmail !== undefined) query = query.where("email", ">", q.afterEmail);
  const rows = await query.orderBy("email", "asc").limit(q.limit + 1);
  return { rows: rows.slice(0, q.limit), more: rows.length > q.limit };
}
