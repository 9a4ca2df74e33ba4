/**
 * The sections the control plane's own services answer: users (UserService.ListUsers) and API keys
 * (TenantService.ListApiKeys). The user count also stands in as the `users` stock quota until QuotaService is
 * part of the deployment (then its CheckQuota figure wins; see compose.ts).
 */
import { TenantServiceClient } from "../../gen/tenantmesh/v1/tenant.js";
import { UserServiceClient, type User } from "../../gen/tenantmesh/v1/user.js";
import { callUnary } from "../rpc-client.js";
import { metric, type DashboardSource } from "./source.js";

const DAY_MS = 24 * 60 * 60_000;
/** ListUsers' largest page; a tenant's users are few (max_users), so a few pages at most */
const USERS_PAGE = 500;

export const usersSource: DashboardSource = {
  service: "UserService",
  sections: ["users"],
  views: ["full", "summary"],
  async fill(ctx, out) {
    const client = ctx.client(UserServiceClient);
    const users: User[] = [];
    let pageToken = "";
    do {
      const page = await callUnary(client, client.listUsers, { tenantId: ctx.tenant.id, pageSize: USERS_PAGE, pageToken, role: "", includeDeleted: false }, ctx.metadata);
      users.push(...page.users);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    const since = ctx.now.getTime() - DAY_MS;
    metric(out, "userMetrics", "users_total", users.length);
    for (const role of ["admin", "manager", "user", "viewer"]) metric(out, "userMetrics", `users_${role}`, users.filter((u) => u.role === role).length);
    metric(out, "userMetrics", "users_mfa_enabled", users.filter((u) => u.mfaEnabled).length);
    metric(out, "userMetrics", "users_active_24h", users.filter((u) => (u.lastActivity?.getTime() ?? 0) >= since).length);
    out.usage.push({ resourceType: "users", quota: "max_users", used: users.length, limit: ctx.tenant.maxUsers, unlimited: false, unit: "users", period: "" });
  },
};

export const keysSource: DashboardSource = {
  service: "TenantService",
  sections: ["keys"],
  views: ["full"],
  async fill(ctx, out) {
    const client = ctx.client(TenantServiceClient);
    const { keys } = await callUnary(client, client.listApiKeys, { tenantId: ctx.tenant.id, includeRevoked: false }, ctx.metadata);
    const now = ctx.now.getTime();
    const live = keys.filter((k) => k.expiresAt === undefined || k.expiresAt.getTime() > now);
    metric(out, "userMetrics", "api_keys_active", live.length);
    metric(out, "userMetrics", "api_keys_used_24h", live.filter((k) => (k.lastUsedAt?.getTime() ?? 0) >= now - DAY_MS).length);
  },
};
