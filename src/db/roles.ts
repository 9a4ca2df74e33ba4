/**
 * The two database roles every query runs under (SET LOCAL ROLE inside its transaction):
 * - `app`: NOSUPERUSER NOBYPASSRLS — all tenant data access, guarded by row-level security;
 * - `platform`: NOSUPERUSER BYPASSRLS — the platform's own cross-tenant work (operators, rollups), reached only
 *   through `asPlatform`.
 * Names are validated SQL identifiers (config), so quoting them is enough to interpolate them.
 */
export interface DbRoles {
  appRole: string;
  platformRole: string;
}

export const defaultRoles: DbRoles = { appRole: "tenantmesh_app", platformRole: "tenantmesh_platform" };

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
