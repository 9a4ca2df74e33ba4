/**
 * Tenant roles and the permissions each grants by default. A user's `permissions` add grants on top of the
 * role (never beyond what the granting admin holds: see users), and `tenant_permissions` ({name: boolean})
 * switch single permissions on or off for that user. docs/permissions.md is the reference.
 */
export const roles = ["admin", "manager", "user", "viewer"] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  "tenant:read",
  "tenant:write",
  "users:read",
  "users:write",
  "users:admin",
  "keys:read",
  "keys:write",
  "sessions:revoke",
  "businesses:read",
  "businesses:write",
  "usage:read",
  "billing:read",
  "billing:write",
  "security:read",
  "security:write",
  "audit:read",
  "compliance:read",
  "compliance:write",
  "metrics:read",
] as const;
export type Permission = (typeof permissions)[number];

const viewer: Permission[] = [
  "tenant:read",
  "users:read",
  "businesses:read",
  "usage:read",
  "metrics:read",
  "compliance:read",
];
const user: Permission[] = [...viewer, "businesses:write", "keys:read"];
const manager: Permission[] = [...user, "users:write", "keys:write", "billing:read", "security:read", "audit:read"];
const admin: Permission[] = [...permissions];

export const roleGrants: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(viewer),
  user: new Set(user),
  manager: new Set(manager),
  admin: new Set(admin),
};

/** Rank for "at least" comparisons: admin > manager > user > viewer */
export const roleRank: Readonly<Record<Role, number>> = { viewer: 0, user: 1, manager: 2, admin: 3 };

export const isRole = (value: string): value is Role => (roles as readonly string[]).includes(value);
export const isPermission = (value: string): value is Permission => (permissions as readonly string[]).includes(value);

/**
 * Scopes of service principals (proxies, KYB backends): narrow, and disjoint from tenant-admin permissions,
 * so a stolen service token can feed data in but never administer a tenant.
 */
export const serviceScopes = ["tenants:watch", "usage:write", "metrics:write", "sessions:verify"] as const;
export type ServiceScope = (typeof serviceScopes)[number];
export const isServiceScope = (value: string): value is ServiceScope => (serviceScopes as readonly string[]).includes(value);
