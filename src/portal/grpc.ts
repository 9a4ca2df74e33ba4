/**
 * tenantmesh.v1.PortalService over the RpcKit chain.
 *
 *   GetTenantDashboard          tenant:read on that tenant (every role has it) or operator: the seed's HasTenantAccess
 *   RequestPlanChange           billing:write on that tenant (admins)
 *   ListPlanChangeRequests      billing:read on that tenant; with no tenant, operators (every pending request)
 *   ResolvePlanChangeRequest    operator
 *
 * An empty tenant id means the caller's own tenant; for an operator it is INVALID_ARGUMENT (except in
 * ListPlanChangeRequests, where it means every tenant).
 */
import { Metadata } from "@grpc/grpc-js";
import { z } from "zod";
import { describePrincipal, principalTenant, type Permission, type Principal } from "../authz/index.js";
import type { Database } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";
import { PortalServiceService, type PortalServiceServer } from "../gen/tenantmesh/v1/portal.js";
import { parseRequest, type Policy, type RpcContext, type RpcKit } from "../grpc/index.js";
import { isPlanType } from "../plans/index.js";
import { composeDashboard } from "./dashboard/compose.js";
import { dashboardViews, dashboardWindows, type DashboardSource } from "./dashboard/source.js";
import { capturingCaller, forwardedMetadata, type CallerInfo, type LoopbackClients } from "./loopback.js";
import { listPendingRequests, listTenantRequests, requestPlanChange, resolvePlanChange } from "./plan-requests.js";

export { PortalServiceService };

export interface PortalDeps {
  db: Database;
  loopback: LoopbackClients;
  sources: readonly DashboardSource[];
  now: () => Date;
}

const uuid = z.uuid("must be a UUID");
const uuidOrEmpty = z.union([z.literal(""), uuid]);
const dashboardSchema = z.object({
  tenantId: uuidOrEmpty,
  window: z.union([z.literal(""), z.enum(dashboardWindows, "must be hour, day or week")]).transform((w) => (w === "" ? "hour" : w)),
  view: z.union([z.literal(""), z.enum(dashboardViews, "must be full or summary")]).transform((v) => (v === "" ? "full" : v)),
});
const requestSchema = z.object({
  tenantId: uuidOrEmpty,
  planType: z.string().refine(isPlanType, "must be free, basic, professional or enterprise"),
  reason: z.string().max(500, "must be at most 500 characters"),
});
const resolveSchema = z.object({ tenantId: uuid, requestId: uuid, approve: z.boolean(), note: z.string().max(500, "must be at most 500 characters") });

/** A tenant policy on the request's tenant id; a malformed id resolves to no tenant and is refused */
function tenantPolicy<Req extends { tenantId: string }>(permission: Permission): Policy<Req> {
  return {
    kind: "tenant",
    permission,
    tenant: (req: Req, p: Principal) => (req.tenantId === "" ? principalTenant(p) : uuid.safeParse(req.tenantId).success ? req.tenantId : undefined),
  };
}

function tenantOf(ctx: RpcContext): string {
  if (ctx.tenantId === undefined) throw invalidArgument([{ field: "tenant_id", description: "is required" }]);
  return ctx.tenantId;
}

/** The PortalService implementation, every method wrapped in the kit's interceptor chain */
export function portalServiceImplementation(kit: RpcKit, deps: PortalDeps): PortalServiceServer {
  const callers = new WeakMap<object, CallerInfo>();

  return {
    getTenantDashboard: capturingCaller(
      callers,
      kit.unary("PortalService/GetTenantDashboard", tenantPolicy("tenant:read"), async (req, ctx) => {
        const input = parseRequest(dashboardSchema, req);
        const caller = callers.get(req);
        if (caller === undefined) throw new Error("GetTenantDashboard: the caller was not captured");
        const pool = deps.loopback.pool(caller);
        return composeDashboard({
          tenantId: tenantOf(ctx),
          window: input.window,
          view: input.view,
          now: deps.now(),
          metadata: forwardedMetadata(caller, ctx.requestId, () => new Metadata()),
          client: (ctor) => pool.get(ctor),
          sources: deps.sources,
        });
      }),
    ),

    requestPlanChange: kit.unary("PortalService/RequestPlanChange", tenantPolicy("billing:write"), async (req, ctx) => {
      const input = parseRequest(requestSchema, req);
      const tenantId = tenantOf(ctx);
      const actor = describePrincipal(ctx.principal);
      const request = await ctx.inTenant((trx) => requestPlanChange(trx, { tenantId, planType: input.planType, reason: input.reason, actor }));
      ctx.log.info({ request_id: request.id, plan: input.planType }, "plan change requested");
      return request;
    }),

    listPlanChangeRequests: kit.unary("PortalService/ListPlanChangeRequests", tenantPolicy("billing:read"), async (req, ctx) => {
      parseRequest(z.object({ tenantId: uuidOrEmpty }), req);
      if (ctx.tenantId === undefined) return { requests: await listPendingRequests(deps.db) };
      const tenantId = ctx.tenantId;
      return { requests: await ctx.inTenant((trx) => listTenantRequests(trx, tenantId)) };
    }),

    resolvePlanChangeRequest: kit.unary("PortalService/ResolvePlanChangeRequest", { kind: "operator" }, async (req, ctx) => {
      const input = parseRequest(resolveSchema, req);
      const actor = describePrincipal(ctx.principal);
      const resolved = await deps.db.withTenant(input.tenantId, (trx) => resolvePlanChange(trx, { ...input, actor }));
      ctx.log.info({ tenant_id: input.tenantId, request_id: input.requestId, status: resolved.status }, "plan change request resolved");
      return resolved;
    }),
  };
}
