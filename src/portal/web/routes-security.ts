/**
 * The MFA requirement: the `mfa` feature of the tenant's security policy (SecurityService). Reading needs
 * security:read and changing it security:write, as with `tenantmesh security policy`; when SecurityService is not
 * part of this deployment the page is told so, never offered a switch that would enforce nothing.
 */
import { SecurityPolicy, SecurityServiceClient } from "../../gen/tenantmesh/v1/security.js";
import { callUnary, RpcError } from "../rpc-client.js";
import type { Route, RouteContext } from "./router.js";
import { bool, tenantParam } from "./values.js";

const security = (ctx: RouteContext) => ctx.clients.get(SecurityServiceClient);

const policyView = (p: SecurityPolicy) => ({
  mfaRequired: p.securityFeatures.mfa === true,
  networkRestrictions: p.networkRestrictions,
  complianceStandards: p.complianceStandards,
  notEnforced: p.notEnforced,
  updatedAt: p.updatedAt ?? null,
  updatedBy: p.updatedBy,
});

/** Unavailable and forbidden are answers for this panel, not failures of the page */
async function orState<T>(ctx: RouteContext, fn: () => Promise<T>): Promise<T | Record<string, unknown>> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RpcError && err.unimplemented) return { available: false, message: "SecurityService is not available in this deployment" };
    if (err instanceof RpcError && err.code === "TM_ERR_PERMISSION_DENIED" && ctx.req.method === "GET") return { available: true, forbidden: true };
    throw err;
  }
}

export function securityRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/api/tenants/:tenantId/security-policy",
      access: "session",
      handler: (ctx) =>
        orState(ctx, async () => ({ available: true, policy: policyView(await callUnary(security(ctx), security(ctx).getSecurityPolicy, { tenantId: tenantParam(ctx) }, ctx.metadata())) })),
    },
    {
      method: "PUT",
      path: "/api/tenants/:tenantId/security-policy/mfa",
      access: "session",
      async handler(ctx) {
        const required = bool((await ctx.body()).required);
        const policy = SecurityPolicy.fromPartial({ tenantId: tenantParam(ctx), securityFeatures: { mfa: required } });
        const req = { tenantId: policy.tenantId, policy, updateMask: ["security_features.mfa"] };
        return { available: true, policy: policyView(await callUnary(security(ctx), security(ctx).updateSecurityPolicy, req, ctx.metadata())) };
      },
    },
  ];
}
