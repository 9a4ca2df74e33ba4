/**
 * A tenant's pages: dashboard, users, API keys, settings, plan-change requests. Each route is one or two RPCs
 * with the session's credential; the tenant id comes from the URL and the control plane decides whether the
 * caller may act on it (a tampered URL gets the RPC's PERMISSION_DENIED, as the CLI would).
 */
import { PortalServiceClient } from "../../gen/tenantmesh/v1/portal.js";
import { Tenant, TenantServiceClient, type ApiKey } from "../../gen/tenantmesh/v1/tenant.js";
import { User, UserServiceClient } from "../../gen/tenantmesh/v1/user.js";
import { callUnary } from "../rpc-client.js";
import type { Route, RouteContext } from "./router.js";
import { str, strList, tenantParam } from "./values.js";

const DAY_MS = 24 * 60 * 60_000;

/** The fields of a user the pages show */
export const userView = (u: User) => ({
  id: u.id,
  email: u.email,
  role: u.role,
  mfaEnabled: u.mfaEnabled,
  loginCount: u.loginCount,
  lastLogin: u.lastLogin ?? null,
  lastActivity: u.lastActivity ?? null,
  createdAt: u.createdAt ?? null,
});

/** A key as listed: its prefix and dates, never a secret (ListApiKeys has none to give) */
export const keyView = (k: ApiKey) => ({
  keyId: k.keyId,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  createdAt: k.createdAt ?? null,
  lastUsedAt: k.lastUsedAt ?? null,
  expiresAt: k.expiresAt ?? null,
  revokedAt: k.revokedAt ?? null,
});

export const tenantView = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  planType: t.planType,
  status: t.status,
  networkRestrictions: t.networkRestrictions,
  securityPolicy: t.securityPolicy ?? {},
  createdAt: t.createdAt ?? null,
});

const users = (ctx: RouteContext) => ctx.clients.get(UserServiceClient);
const tenants = (ctx: RouteContext) => ctx.clients.get(TenantServiceClient);
const portal = (ctx: RouteContext) => ctx.clients.get(PortalServiceClient);

async function listAllUsers(ctx: RouteContext, tenantId: string): Promise<User[]> {
  const c = users(ctx);
  const out: User[] = [];
  let pageToken = "";
  do {
    const page = await callUnary(c, c.listUsers, { tenantId, pageSize: 500, pageToken, role: "", includeDeleted: false }, ctx.metadata());
    out.push(...page.users);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return out;
}

export function tenantRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/api/tenants/:tenantId/dashboard",
      access: "session",
      handler: (ctx) =>
        callUnary(portal(ctx), portal(ctx).getTenantDashboard, { tenantId: tenantParam(ctx), window: ctx.query.get("window") ?? "", view: ctx.query.get("view") ?? "" }, ctx.metadata()),
    },
    { method: "GET", path: "/api/tenants/:tenantId/users", access: "session", handler: async (ctx) => ({ users: (await listAllUsers(ctx, tenantParam(ctx))).map(userView) }) },
    {
      method: "POST",
      path: "/api/tenants/:tenantId/users",
      access: "session",
      async handler(ctx) {
        const b = await ctx.body();
        const req = {
          tenantId: tenantParam(ctx),
          email: str(b.email, 255, "email"),
          password: str(b.password, 1024, "password"),
          role: str(b.role, 20, "role"),
          permissions: [],
          tenantPermissions: undefined,
          timezone: "",
          language: "",
          preferences: undefined,
        };
        return { user: userView(await callUnary(users(ctx), users(ctx).createUser, req, ctx.metadata())) };
      },
    },
    {
      method: "PATCH",
      path: "/api/tenants/:tenantId/users/:userId",
      access: "session",
      async handler(ctx) {
        const role = str((await ctx.body()).role, 20, "role");
        const user = User.fromPartial({ id: ctx.params.userId ?? "", tenantId: tenantParam(ctx), role });
        return { user: userView(await callUnary(users(ctx), users(ctx).updateUser, { user, updateMask: ["role"] }, ctx.metadata())) };
      },
    },
    {
      method: "DELETE",
      path: "/api/tenants/:tenantId/users/:userId",
      access: "session",
      async handler(ctx) {
        await callUnary(users(ctx), users(ctx).deleteUser, { tenantId: tenantParam(ctx), id: ctx.params.userId ?? "" }, ctx.metadata());
        return { deleted: true };
      },
    },
    {
      method: "POST",
      path: "/api/tenants/:tenantId/users/:userId/revoke-sessions",
      access: "session",
      async handler(ctx) {
        const res = await callUnary(users(ctx), users(ctx).revokeSessions, { tenantId: tenantParam(ctx), userId: ctx.params.userId ?? "" }, ctx.metadata());
        return { revokedCount: res.revokedCount };
      },
    },
    {
      method: "GET",
      path: "/api/tenants/:tenantId/keys",
      access: "session",
      async handler(ctx) {
        const req = { tenantId: tenantParam(ctx), includeRevoked: ctx.query.get("revoked") === "1" };
        return { keys: (await callUnary(tenants(ctx), tenants(ctx).listApiKeys, req, ctx.metadata())).keys.map(keyView) };
      },
    },
    {
      method: "POST",
      path: "/api/tenants/:tenantId/keys",
      access: "session",
      async handler(ctx) {
        const b = await ctx.body();
        const days = typeof b.expiresInDays === "number" && b.expiresInDays > 0 ? Math.min(b.expiresInDays, 3650) : undefined;
        const req = { tenantId: tenantParam(ctx), name: str(b.name, 200, "name"), role: str(b.role, 20, "role"), expiresAt: days ? new Date(Date.now() + days * DAY_MS) : undefined };
        const res = await callUnary(tenants(ctx), tenants(ctx).createApiKey, req, ctx.metadata());
        // The one time the secret leaves the control plane: the page shows it once and keeps no copy.
        return { apiKey: res.apiKey, key: res.key ? keyView(res.key) : null };
      },
    },
    {
      method: "DELETE",
      path: "/api/tenants/:tenantId/keys/:keyId",
      access: "session",
      async handler(ctx) {
        const key = await callUnary(tenants(ctx), tenants(ctx).revokeApiKey, { tenantId: tenantParam(ctx), keyId: ctx.params.keyId ?? "" }, ctx.metadata());
        return { key: keyView(key) };
      },
    },
    {
      method: "GET",
      path: "/api/tenants/:tenantId/settings",
      access: "session",
      async handler(ctx) {
        const tenant = await callUnary(tenants(ctx), tenants(ctx).getTenant, { id: tenantParam(ctx) }, ctx.metadata());
        // Plan requests need billing:read; a role without it simply sees none.
        const requests = await callUnary(portal(ctx), portal(ctx).listPlanChangeRequests, { tenantId: tenant.id }, ctx.metadata()).then(
          (r) => r.requests,
          () => null,
        );
        return { tenant: tenantView(tenant), planRequests: requests };
      },
    },
    {
      method: "PUT",
      path: "/api/tenants/:tenantId/network-restrictions",
      access: "session",
      async handler(ctx) {
        const cidrs = strList((await ctx.body()).cidrs, 100, "cidrs");
        const tenant = Tenant.fromPartial({ id: tenantParam(ctx), networkRestrictions: cidrs });
        return { tenant: tenantView(await callUnary(tenants(ctx), tenants(ctx).updateTenant, { tenant, updateMask: ["network_restrictions"] }, ctx.metadata())) };
      },
    },
    {
      method: "POST",
      path: "/api/tenants/:tenantId/plan-requests",
      access: "session",
      async handler(ctx) {
        const b = await ctx.body();
        const req = { tenantId: tenantParam(ctx), planType: str(b.planType, 50, "plan_type"), reason: str(b.reason, 500, "reason") };
        return { request: await callUnary(portal(ctx), portal(ctx).requestPlanChange, req, ctx.metadata()) };
      },
    },
  ];
}
