export { authorize, effectiveGrants, principalTenant, requireOperator, requireScope } from "./check.js";
export { describePrincipal, isTenantPrincipal, type Principal, type TenantPrincipal } from "./principal.js";
export {
  isPermission,
  isRole,
  isServiceScope,
  permissions,
  roleGrants,
  roleRank,
  roles,
  serviceScopes,
  type Permission,
  type Role,
  type ServiceScope,
} from "./roles.js";
