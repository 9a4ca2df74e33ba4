import { TenantMeshError } from "../errors/index.js";
import { isTenantPrincipal, type Principal } from "./principal.js";
import { isPermission, roleGrants, type Permission, type Role, type ServiceScope } from "./roles.js";

/**
 * The effective grants of a tenant principal: its role's defaults, plus `permissions`, then `tenant_permissions`
 * switching single permissions on (true) or off (false). Unknown names are ignored (validated on write).
 */
export function effectiveGrants(role: Role, extra: readonly string[] = [], overrides: Record<string, unknown> = {}): Set<Permission> {
  const grants = new Set<Permission>(roleGrants[role]);
  for (const p of extra) if (isPermission(p)) grants.add(p);
  for (const [p, on] of Object.entries(overrides)) {
    if (!isPermission(p)) continue;
    if (on === true) grants.add(p);
    else if (on === false) grants.delete(p);
  }
  return grants;
}

const denied = (): TenantMeshError => new TenantMeshError("TM_ERR_PERMISSION_DENIED", "permission denied");

/**
 * The one authorization check every handler uses. Operators may do anything; a tenant principal only on its
 * own tenant and only what its grants allow. Acting on another tenant is refused with the same message as a
 * missing permission, so the answer never reveals whether that tenant exists.
 */
export function authorize(principal: Principal, permission: Permission, tenantId: string | undefined): void {
  switch (principal.kind) {
    case "operator":
      return;
    case "user":
    case "api_key":
      if (tenantId === undefined || tenantId !== principal.tenantId) throw denied();
      if (!principal.grants.has(permission)) throw denied();
      return;
    case "service":
    case "anonymous":
      if (principal.kind === "anonymous") {
        throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a credential is required: authorization: Bearer <token>");
      }
      throw denied();
  }
}

/** Operator-only actions (provisioning, lifecycle, cross-tenant listing) */
export function requireOperator(principal: Principal): void {
  if (principal.kind === "operator") return;
  if (principal.kind === "anonymous") {
    throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a credential is required: authorization: Bearer <token>");
  }
  throw denied();
}

/** Service-scope actions (the proxies' feed, usage and metrics ingestion); operators may too */
export function requireScope(principal: Principal, scope: ServiceScope): void {
  if (principal.kind === "operator") return;
  if (principal.kind === "service" && principal.scopes.has(scope)) return;
  if (principal.kind === "anonymous") {
    throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a credential is required: authorization: Bearer <token>");
  }
  throw denied();
}

/** The tenant a tenant principal belongs to, or undefined for platform principals */
export const principalTenant = (p: Principal): string | undefined => (isTenantPrincipal(p) ? p.tenantId : undefined);
