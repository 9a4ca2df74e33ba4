/**
 * The operator's pages (operator sessions only; the control plane checks the operator token on every RPC
 * anyway): all tenants at a glance, provisioning, suspend and reactivate, plan-change requests, and the
 * isolation report.
 */
import { randomUUID } from "node:crypto";
import { PortalServiceClient, type TenantDashboard } from "../../gen/tenantmesh/v1/portal.js";
import { Tenant, TenantServiceClient } from "../../gen/tenantmesh/v1/tenant.js";
import { notFound } from "../../errors/index.js";
import { callUnary } from "../rpc-client.js";
import { isolationReport } from "./isolation.js";
import type { Route, RouteContext } from "./router.js";
import { tenantView } from "./routes-tenant.js";
import { bool, str, tenantParam } from "./values.js";

const PAGE = 25;
/** Summaries are fetched this many at a time: enough to be quick, few enough not to flood the control plane */
const CONCURRENCY = 8;

const tenants = (ctx: RouteContext) => ctx.clients.get(TenantServiceClient);
const portal = (ctx: RouteContext) => ctx.clients.get(PortalServiceClient);

/** ok · warning (a quota at 90% or an open alert) · critical (an open critical alert) · inactive */
export function healthOf(d: TenantDashboard): "ok" | "warning" | "critical" | "inactive" {
  if (d.tenant?.status !== "active") return "inactive";
  const open = d.alerts.filter((a) => a.clearedAt === undefined);
  if (open.some((a) => a.severity === "critical")) return "critical";
  if (open.length > 0 || d.usage.some((u) => !u.unlimited && u.limit > 0 && u.used / u.limit >= 0.9)) return "warning";
  return "ok";
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

export function operatorRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/api/operator/tenants",
      access: "operator",
      async handler(ctx) {
        const page = await callUnary(tenants(ctx), tenants(ctx).listTenants, { pageSize: PAGE, pageToken: ctx.query.get("pageToken") ?? "", status: ctx.query.get("status") ?? "", planType: "" }, ctx.metadata());
        const rows = await mapLimited(page.tenants, CONCURRENCY, async (t) => {
          if (t.status === "provisioning" || t.status === "cancelled") return { tenant: tenantView(t), health: "inactive", usage: [], alerts: [], sections: [], userMetrics: {} };
          const d = await callUnary(portal(ctx), portal(ctx).getTenantDashboard, { tenantId: t.id, window: "hour", view: "summary" }, ctx.metadata());
          return { tenant: tenantView(t), health: healthOf(d), usage: d.usage, alerts: d.alerts.filter((a) => a.clearedAt === undefined), sections: d.sections, userMetrics: d.analytics?.userMetrics ?? {} };
        });
        return { tenants: rows, nextPageToken: page.nextPageToken };
      },
    },
    {
      method: "POST",
      path: "/api/operator/tenants",
      access: "operator",
      async handler(ctx) {
        const b = await ctx.body();
        const req = {
          name: str(b.name, 200, "name"),
          slug: str(b.slug, 100, "slug"),
          planType: str(b.planType, 50, "plan_type"),
          adminEmail: str(b.adminEmail, 255, "admin_email"),
          adminPassword: "",
          billingInfo: undefined,
          billingCycle: "",
          // One click is one tenant, even if the answer is lost and the operator clicks again with the same form.
          idempotencyKey: str(b.idempotencyKey, 128, "idempotency_key") || randomUUID(),
        };
        const res = await callUnary(tenants(ctx), tenants(ctx).provisionTenant, req, ctx.metadata(), 60_000);
        // The admin's password and the first API key are shown this once; the portal keeps no copy.
        return { tenant: res.tenant ? tenantView(res.tenant) : null, adminEmail: res.adminUser?.email ?? req.adminEmail, adminPassword: res.adminPassword, apiKey: res.apiKey, replayed: res.replayed };
      },
    },
    ...(["suspend", "reactivate"] as const).map(
      (action): Route => ({
        method: "POST",
        path: `/api/operator/tenants/:tenantId/${action}`,
        access: "operator",
        async handler(ctx) {
          const req = { id: tenantParam(ctx), reason: str((await ctx.body()).reason, 500, "reason") };
          const c = tenants(ctx);
          const tenant = await callUnary(c, action === "suspend" ? c.suspendTenant : c.reactivateTenant, req, ctx.metadata());
          return { tenant: tenantView(tenant) };
        },
      }),
    ),
    {
      method: "GET",
      path: "/api/operator/plan-requests",
      access: "operator",
      handler: async (ctx) => ({ requests: (await callUnary(portal(ctx), portal(ctx).listPlanChangeRequests, { tenantId: "" }, ctx.metadata())).requests }),
    },
    {
      method: "POST",
      path: "/api/operator/plan-requests/:requestId",
      access: "operator",
      async handler(ctx) {
        const b = await ctx.body();
        const tenantId = str(b.tenantId, 36, "tenant_id");
        const approve = bool(b.approve);
        const { requests } = await callUnary(portal(ctx), portal(ctx).listPlanChangeRequests, { tenantId }, ctx.metadata());
        const request = requests.find((r) => r.id === ctx.params.requestId);
        if (request === undefined) throw notFound("plan change request");
        if (approve) {
          // The plan changes through UpdateTenant, exactly as `tenantmesh tenants update --plan` does it.
          const tenant = Tenant.fromPartial({ id: tenantId, planType: request.requestedPlan });
          await callUnary(tenants(ctx), tenants(ctx).updateTenant, { tenant, updateMask: ["plan_type"] }, ctx.metadata());
        }
        const req = { tenantId, requestId: request.id, approve, note: str(b.note, 500, "note") };
        return { request: await callUnary(portal(ctx), portal(ctx).resolvePlanChangeRequest, req, ctx.metadata()) };
      },
    },
    { method: "GET", path: "/api/operator/isolation", access: "operator", handler: (ctx) => isolationReport(ctx) },
  ];
}
