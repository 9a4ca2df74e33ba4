/**
 * Who may shape whom. Two invariants, checked on every write that sets a role or grants:
 * 1. Managing the upper roles (manager, admin) — creating, changing, deleting such a user, or giving such a
 *    role — needs `users:admin`; `users:write` alone reaches only user and viewer.
 * 2. No escalation: a caller never hands out a permission it does not hold itself. Compared on effective
 *    grants (role defaults + permissions + tenant_permissions), only for grants the target gains.
 * Operators are exempt from both: they administer the platform.
 */
import { effectiveGrants, type Permission, type Principal, type Role } from "../authz/index.js";
import { permissionDenied } from "../errors/index.js";

/** Roles `users:write` reaches; the others need `users:admin` */
const lowerRoles: ReadonlySet<Role> = new Set<Role>(["user", "viewer"]);

const holds = (principal: Principal, permission: Permission): boolean =>
  principal.kind === "operator" || ((principal.kind === "user" || principal.kind === "api_key") && principal.grants.has(permission));

/** True when the principal may create, change or delete a user holding `role` (or give that role) */
export function mayManageRole(principal: Principal, role: Role): boolean {
  if (principal.kind === "operator") return true;
  return lowerRoles.has(role) ? holds(principal, "users:write") : holds(principal, "users:admin");
}

/** Throws PERMISSION_DENIED unless the principal may manage every one of `roles` */
export function requireManageRoles(principal: Principal, roles: readonly Role[]): void {
  for (const role of roles) {
    if (!mayManageRole(principal, role)) {
      throw permissionDenied(`managing users with role ${role} needs ${lowerRoles.has(role) ? "users:write" : "users:admin"}`);
    }
  }
}

/** The grants a user's role, permissions and overrides amount to */
export interface GrantShape {
  role: Role;
  permissions: readonly string[];
  tenantPermissions: Record<string, unknown>;
}

const grantsOf = (shape: GrantShape): Set<Permission> => effectiveGrants(shape.role, shape.permissions, shape.tenantPermissions);

/**
 * Throws PERMISSION_DENIED, naming the permissions, when `after` grants something `before` did not (null:
 * a new user) that the caller does not hold.
 */
export function requireNoEscalation(principal: Principal, before: GrantShape | null, after: GrantShape): void {
  if (principal.kind === "operator") return;
  const had = before === null ? new Set<Permission>() : grantsOf(before);
  const beyond = [...grantsOf(after)].filter((p) => !had.has(p) && !holds(principal, p));
  if (beyond.length > 0) {
    throw permissionDenied(`cannot grant permissions the caller does not hold: ${beyond.sort().join(", ")}`);
  }
}

/** The user the principal is, if it is a user session (for "on themself" rules) */
export const selfUserId = (principal: Principal): string | undefined => (principal.kind === "user" ? principal.userId : undefined);
