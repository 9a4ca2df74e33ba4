import type { Role } from "../authz/index.js";
import type { User } from "../gen/tenantmesh/v1/user.js";

/**
 * A `users` row as the database hands it back (snake_case, every column). Secrets (`password_hash`,
 * `mfa_secret`, `password_reset_token`) live only here: `toUserMessage` is the one way out to the wire and
 * never copies them.
 */
export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  role: Role;
  permissions: string[] | null;
  tenant_permissions: Record<string, unknown> | null;
  timezone: string | null;
  language: string | null;
  preferences: Record<string, unknown> | null;
  last_login: Date | null;
  last_activity: Date | null;
  login_count: number | null;
  mfa_enabled: boolean | null;
  mfa_secret: string | null;
  /** The last TOTP time step accepted (replay protection); BIGINT, below 2^53 */
  mfa_last_step: number | string | null;
  /** SHA-256 (hex) of the outstanding password-reset token, never the token */
  password_reset_token: string | null;
  password_reset_expires: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** The columns safe to return to any caller (no secrets); used where a row leaves the store for display */
export const publicUserColumns = [
  "id",
  "tenant_id",
  "email",
  "role",
  "permissions",
  "tenant_permissions",
  "timezone",
  "language",
  "preferences",
  "last_login",
  "last_activity",
  "login_count",
  "mfa_enabled",
  "created_at",
  "updated_at",
  "deleted_at",
] as const;

/** Emails are compared and stored lower-cased and trimmed: `Ann@X.io` and `ann@x.io` are one account */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

const asDate = (value: Date | string | null | undefined): Date | undefined =>
  value === null || value === undefined ? undefined : value instanceof Date ? value : new Date(value);

/** The wire `User` of a row. Never exposes password_hash, mfa_secret, mfa_last_step or the reset token. */
export function toUserMessage(row: Pick<UserRow, (typeof publicUserColumns)[number]>): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    role: row.role,
    permissions: [...(row.permissions ?? [])],
    tenantPermissions: { ...(row.tenant_permissions ?? {}) },
    timezone: row.timezone ?? "UTC",
    language: row.language ?? "en",
    preferences: { ...(row.preferences ?? {}) },
    lastLogin: asDate(row.last_login),
    lastActivity: asDate(row.last_activity),
    loginCount: row.login_count ?? 0,
    mfaEnabled: row.mfa_enabled === true,
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
    deletedAt: asDate(row.deleted_at),
  };
}
