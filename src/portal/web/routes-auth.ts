/**
 * Signing in and out. Users sign in with UserService.Authenticate (tenant slug, email, password, TOTP when MFA
 * is on); operators with the operator token, checked by making an operator-only call with it. Failed attempts
 * are counted per client address, so the portal is not an unmetered password oracle.
 */
import { RateLimiterMemory } from "rate-limiter-flexible";
import { effectiveGrants, isRole, permissions as allPermissions } from "../../authz/index.js";
import { TenantMeshError } from "../../errors/index.js";
import { TenantServiceClient } from "../../gen/tenantmesh/v1/tenant.js";
import { UserServiceClient } from "../../gen/tenantmesh/v1/user.js";
import { bearer, callUnary, RpcError } from "../rpc-client.js";
import { Metadata } from "@grpc/grpc-js";
import { Reply, type Route, type RouteContext } from "./router.js";
import { clearedCookie, sessionCookie, type PortalPrincipal, type SessionStore } from "./sessions.js";
import { requireSession, str } from "./values.js";

/** Failed sign-ins per client address and minute */
export class SignInLimiter {
  readonly #limiter: RateLimiterMemory;
  constructor(readonly perMinute: number) {
    this.#limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  }
  async check(key: string): Promise<void> {
    const state = await this.#limiter.get(key);
    if (state !== null && state.consumedPoints >= this.perMinute) {
      throw new TenantMeshError("TM_ERR_RATE_LIMITED", "too many failed sign-ins from this address; wait a minute", {
        retryAfterSeconds: Math.ceil(state.msBeforeNext / 1000),
      });
    }
  }
  failed(key: string): void {
    this.#limiter.consume(key).catch(() => undefined);
  }
}

export interface AuthDeps {
  store: SessionStore;
  secure: boolean;
  refreshMs: number;
  limiter: SignInLimiter;
}

/** What the page learns about its session: who, which tenant, what the role allows; never a credential */
async function me(ctx: RouteContext, deps: AuthDeps): Promise<Record<string, unknown>> {
  const session = requireSession(ctx);
  const base = { kind: session.principal.kind, csrf: session.csrf, refreshMs: deps.refreshMs, expiresAt: new Date(session.expiresAt).toISOString() };
  const p = session.principal;
  if (p.kind === "operator") return { ...base, permissions: [...allPermissions] };
  const md = ctx.metadata();
  const users = ctx.clients.get(UserServiceClient);
  const tenants = ctx.clients.get(TenantServiceClient);
  const [user, tenant] = await Promise.all([
    callUnary(users, users.getUser, { tenantId: p.tenantId, id: p.userId }, md),
    callUnary(tenants, tenants.getTenant, { id: p.tenantId }, md),
  ]);
  const grants = isRole(user.role) ? [...effectiveGrants(user.role, user.permissions, user.tenantPermissions ?? {})] : [];
  return {
    ...base,
    user: { id: user.id, email: user.email, role: user.role, mfaEnabled: user.mfaEnabled },
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, status: tenant.status, planType: tenant.planType },
    permissions: grants,
  };
}

const clientKey = (ctx: RouteContext): string => ctx.req.socket.remoteAddress ?? "unknown";

function startSession(ctx: RouteContext, deps: AuthDeps, principal: PortalPrincipal, expiresAt?: number): Reply {
  if (ctx.session !== undefined) deps.store.delete(ctx.session.id);
  const session = deps.store.create(principal, expiresAt);
  return new Reply(200, { kind: principal.kind, csrf: session.csrf }, { "set-cookie": sessionCookie(session, deps.secure, Date.now()) });
}

export function authRoutes(deps: AuthDeps): Route[] {
  return [
    {
      method: "POST",
      path: "/api/session",
      access: "none",
      async handler(ctx) {
        const body = await ctx.body();
        const input = { tenantSlug: str(body.tenant, 100).toLowerCase(), email: str(body.email, 255), password: str(body.password, 1024), totpCode: str(body.totp, 10) };
        await deps.limiter.check(clientKey(ctx));
        const users = ctx.clients.get(UserServiceClient);
        try {
          const res = await callUnary(users, users.authenticate, input, new Metadata());
          const principal: PortalPrincipal = {
            kind: "user",
            token: res.sessionToken,
            tenantId: res.tenantId,
            tenantSlug: input.tenantSlug,
            userId: res.user?.id ?? "",
            email: res.user?.email ?? input.email,
            role: res.role,
          };
          return startSession(ctx, deps, principal, res.expiresAt?.getTime());
        } catch (err) {
          if (!(err instanceof RpcError)) throw err;
          if (err.code === "TM_ERR_UNAUTHENTICATED" && err.message.startsWith("a TOTP code is required")) {
            return new Reply(401, { error: { code: err.code, message: "Enter the 6-digit code from your authenticator app." }, totpRequired: true });
          }
          // Said only after the password was proven (Authenticate's rule), so it reveals nothing to a stranger.
          if (err.code === "TM_ERR_UNAUTHENTICATED" && err.message.startsWith("the tenant requires MFA")) {
            const message = "Your tenant requires two-factor authentication and your account has no authenticator yet. Ask a tenant admin.";
            return new Reply(401, { error: { code: err.code, message } });
          }
          if (err.code === "TM_ERR_UNAUTHENTICATED" || err.code === "TM_ERR_INVALID_ARGUMENT") {
            deps.limiter.failed(clientKey(ctx));
            return new Reply(401, { error: { code: "TM_ERR_UNAUTHENTICATED", message: "Wrong tenant, email, password or code." } });
          }
          if (err.code === "TM_ERR_TENANT_INACTIVE") {
            const status = /the tenant is (\w+)/.exec(err.message)?.[1] ?? "not active";
            return new Reply(403, { error: { code: err.code, message: `This tenant is ${status}: sign-in is not possible. Contact your platform operator.` } });
          }
          throw err;
        }
      },
    },
    {
      method: "POST",
      path: "/api/session/operator",
      access: "none",
      async handler(ctx) {
        const token = str((await ctx.body()).token, 1024);
        await deps.limiter.check(clientKey(ctx));
        const tenants = ctx.clients.get(TenantServiceClient);
        try {
          // Only the operator token may list tenants: the call is the check.
          await callUnary(tenants, tenants.listTenants, { pageSize: 1, pageToken: "", status: "", planType: "" }, bearer(token || "-", ctx.requestId));
        } catch (err) {
          if (err instanceof RpcError && (err.code === "TM_ERR_UNAUTHENTICATED" || err.code === "TM_ERR_PERMISSION_DENIED")) {
            deps.limiter.failed(clientKey(ctx));
            return new Reply(401, { error: { code: "TM_ERR_UNAUTHENTICATED", message: "That is not the operator token." } });
          }
          throw err;
        }
        return startSession(ctx, deps, { kind: "operator", token });
      },
    },
    {
      method: "DELETE",
      path: "/api/session",
      access: "session",
      async handler(ctx) {
        const session = requireSession(ctx);
        deps.store.delete(session.id);
        if (session.principal.kind === "user") {
          const users = ctx.clients.get(UserServiceClient);
          // Ends the control-plane session too; if it is already gone there is nothing left to end.
          await callUnary(users, users.logout, {}, ctx.metadata()).catch(() => undefined);
        }
        return new Reply(200, { signedOut: true }, { "set-cookie": clearedCookie(deps.secure) });
      },
    },
    { method: "GET", path: "/api/me", access: "session", handler: (ctx) => me(ctx, deps) },
    {
      method: "POST",
      path: "/api/me/mfa/enroll",
      access: "session",
      async handler(ctx) {
        const p = requireSession(ctx).principal;
        if (p.kind !== "user") throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "operators have no MFA enrollment");
        const users = ctx.clients.get(UserServiceClient);
        const res = await callUnary(users, users.enrollMfa, { tenantId: p.tenantId, userId: p.userId, code: "" }, ctx.metadata());
        return { secret: res.secret, otpauthUri: res.otpauthUri };
      },
    },
    {
      method: "POST",
      path: "/api/me/mfa/confirm",
      access: "session",
      async handler(ctx) {
        const p = requireSession(ctx).principal;
        if (p.kind !== "user") throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "operators have no MFA enrollment");
        const users = ctx.clients.get(UserServiceClient);
        const user = await callUnary(users, users.confirmMfa, { tenantId: p.tenantId, userId: p.userId, code: str((await ctx.body()).code, 10) }, ctx.metadata());
        return { mfaEnabled: user.mfaEnabled };
      },
    },
  ];
}
