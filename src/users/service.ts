/**
 * User management: create, read, list, update and (soft) delete users of one tenant. Every write that guards a
 * per-tenant invariant (max_users, the last admin) locks the tenant row first, so concurrent writers queue.
 */
import { hashPassword, checkPasswordPolicy } from "../auth/index.js";
import { authorize, type Role } from "../authz/index.js";
import { invalidArgument, notFound, TenantMeshError } from "../errors/index.js";
import { recordInTransaction, userCreatedUsage } from "../metering/index.js";
import { requireQuota } from "../quotas/index.js";
import type { User } from "../gen/tenantmesh/v1/user.js";
import type { Tx } from "../db/index.js";
import { inCallerTenant, tenantOf, type Caller } from "./context.js";
import { decodePageToken, encodePageToken } from "../grpc/page-token.js";
import { z } from "zod";
import { requireManageRoles, requireNoEscalation, selfUserId } from "./rules.js";
import { revokeSessions } from "./sessions.js";
import {
  countLiveAdmins,
  findUserById,
  insertUser,
  listUsersPage,
  lockTenantForUsers,
  softDeleteUser,
  toUserMessage,
  updateUser as updateUserRow,
  type UserPatch,
  type UserRow,
} from "./store.js";

export interface CreateUserInput {
  email: string;
  password: string;
  role: Role;
  permissions: string[];
  tenantPermissions: Record<string, boolean>;
  timezone?: string | undefined;
  language?: string | undefined;
  preferences?: Record<string, unknown> | undefined;
}

const lastAdmin = (): TenantMeshError =>
  new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "the tenant's last active admin cannot be demoted or deleted; make another admin first");

/** `now` stamps the `users` usage event recorded with the new row (the slice's injected clock) */
export async function createUser(caller: Caller, input: CreateUserInput, now: Date = new Date()): Promise<User> {
  const tenantId = tenantOf(caller);
  requireManageRoles(caller.principal, [input.role]);
  requireNoEscalation(caller.principal, null, { role: input.role, permissions: input.permissions, tenantPermissions: input.tenantPermissions });
  const violations = checkPasswordPolicy(input.password);
  if (violations.length > 0) throw invalidArgument(violations);
  // scrypt runs before the transaction: the tenant lock is held for milliseconds, not for the hash.
  const passwordHash = await hashPassword(input.password);
  const row = await caller.inTenant(async (trx) => {
    const tenant = await lockTenantForUsers(trx, tenantId);
    if (tenant.status === "cancelled") throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "the tenant is cancelled");
    // max_users through the one CheckQuota, under the tenant-row lock just taken: parallel creates queue.
    await requireQuota(trx, tenantId, "users", 1, now.getTime());
    const user = await insertUser(trx, {
      tenantId,
      email: input.email,
      passwordHash,
      role: input.role,
      permissions: input.permissions,
      tenantPermissions: input.tenantPermissions,
      ...(input.timezone === undefined ? {} : { timezone: input.timezone }),
      ...(input.language === undefined ? {} : { language: input.language }),
      ...(input.preferences === undefined ? {} : { preferences: input.preferences }),
    });
    await caller.audit({ action: "user.created", target: `user:${user.id}`, detail: { role: user.role, permissions: input.permissions } }, trx);
    await recordInTransaction(trx, userCreatedUsage(tenantId, now.getTime()));
    return user;
  });
  caller.log.info({ user_id: row.id, role: row.role }, "user created");
  return toUserMessage(row);
}

/** One user by id, soft-deleted ones included (with deleted_at set) */
export async function getUser(caller: Caller, id: string): Promise<User> {
  const row = await inCallerTenant(caller, (trx) => findUserById(trx, id, { includeDeleted: true }));
  if (row === undefined) throw notFound("user");
  return toUserMessage(row);
}

export interface ListUsersInput {
  pageSize: number;
  pageToken: string;
  role?: Role | undefined;
  includeDeleted: boolean;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** A page of users in email order; the token is bound to the filters it was issued for */
/** ListUsers pages in email order: the position is the last email shown */
const emailCursor = z.object({ after: z.string().max(255) });

export async function listUsers(caller: Caller, input: ListUsersInput): Promise<{ users: User[]; nextPageToken: string }> {
  const tenantId = tenantOf(caller);
  const filters = { tenantId, role: input.role ?? "", includeDeleted: input.includeDeleted };
  const afterEmail = input.pageToken === "" ? undefined : decodePageToken(input.pageToken, emailCursor, [filters.tenantId, filters.role, filters.includeDeleted]).after;
  const limit = Math.min(input.pageSize === 0 ? DEFAULT_PAGE_SIZE : input.pageSize, MAX_PAGE_SIZE);
  const { rows, more } = await caller.inTenant((trx) =>
    listUsersPage(trx, { tenantId, limit, afterEmail, role: input.role, includeDeleted: input.includeDeleted }),
  );
  const last = rows.at(-1);
  return { users: rows.map(toUserMessage), nextPageToken: more && last ? encodePageToken({ after: last.email }, [filters.tenantId, filters.role, filters.includeDeleted]) : "" };
}

/** The update_mask paths UpdateUser accepts */
export const updatablePaths = ["role", "permissions", "tenant_permissions", "preferences", "timezone", "language"] as const;
export type UpdatablePath = (typeof updatablePaths)[number];
/** Paths a user may change on themself without users:write */
const selfServicePaths: ReadonlySet<UpdatablePath> = new Set<UpdatablePath>(["preferences", "timezone", "language"]);
const grantPaths: ReadonlySet<UpdatablePath> = new Set<UpdatablePath>(["role", "permissions", "tenant_permissions"]);

/**
 * Applies the masked fields. A user may change their own preferences, timezone and language; everything else
 * needs users:write, and users:admin where manager/admin roles are involved; a change may not grant what the
 * caller lacks; the last active admin keeps the admin role.
 */
export async function updateUser(caller: Caller, id: string, paths: readonly UpdatablePath[], patch: UserPatch): Promise<User> {
  const tenantId = tenantOf(caller);
  const { principal } = caller;
  const selfService = selfUserId(principal) === id && paths.every((p) => selfServicePaths.has(p));
  if (!selfService) authorize(principal, "users:write", tenantId);
  const row = await caller.inTenant(async (trx) => {
    if (paths.includes("role")) await lockTenantForUsers(trx, tenantId);
    const target = await findUserById(trx, id, { forUpdate: true });
    if (target === undefined) throw notFound("user");
    if (!selfService) requireManageRoles(principal, patch.role === undefined ? [target.role] : [target.role, patch.role]);
    if (paths.some((p) => grantPaths.has(p))) {
      requireNoEscalation(principal, shapeOf(target), {
        role: patch.role ?? target.role,
        permissions: patch.permissions ?? target.permissions ?? [],
        tenantPermissions: patch.tenant_permissions ?? target.tenant_permissions ?? {},
      });
    }
    if (target.role === "admin" && patch.role !== undefined && patch.role !== "admin") await requireAnotherAdmin(trx, tenantId);
    const updated = await updateUserRow(trx, id, patch);
    if (updated === undefined) throw notFound("user");
    await caller.audit(
      {
        action: patch.role !== undefined && patch.role !== target.role ? "user.role_changed" : paths.some((p) => grantPaths.has(p)) ? "user.permissions_changed" : "user.updated",
        target: `user:${id}`,
        detail: {
          paths: [...paths],
          ...(paths.some((p) => grantPaths.has(p)) ? { from: shapeOf(target), to: shapeOf(updated) } : {}),
        },
      },
      trx,
    );
    return updated;
  });
  caller.log.info({ user_id: id, fields: paths }, "user updated");
  return toUserMessage(row);
}

/** Soft delete: deleted_at set, sessions revoked at once, reset token dropped; never the last admin */
export async function deleteUser(caller: Caller, id: string, now: Date): Promise<void> {
  const tenantId = tenantOf(caller);
  authorize(caller.principal, "users:write", tenantId);
  await caller.inTenant(async (trx) => {
    await lockTenantForUsers(trx, tenantId);
    const target = await findUserById(trx, id, { forUpdate: true });
    if (target === undefined) throw notFound("user");
    requireManageRoles(caller.principal, [target.role]);
    if (target.role === "admin") await requireAnotherAdmin(trx, tenantId);
    await softDeleteUser(trx, id, now);
    await revokeSessions(trx, { user_id: id }, now);
    await caller.audit({ action: "user.deleted", target: `user:${id}`, detail: { role: target.role } }, trx);
  });
  caller.log.info({ user_id: id }, "user deleted");
}

async function requireAnotherAdmin(trx: Tx, tenantId: string): Promise<void> {
  if ((await countLiveAdmins(trx, tenantId)) <= 1) throw lastAdmin();
}

const shapeOf = (row: UserRow): { role: Role; permissions: string[]; tenantPermissions: Record<string, unknown> } => ({
  role: row.role,
  permissions: row.permissions ?? [],
  tenantPermissions: row.tenant_permissions ?? {},
});
