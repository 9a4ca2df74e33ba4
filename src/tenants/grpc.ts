/**
 * tenantmesh.v1.TenantService over the RpcKit chain. Each method names its policy (who may call it at all)
 * and validates its request at the edge; the operations behind refine the rest.
 *
 *   ProvisionTenant, ListTenants, Suspend/Reactivate/CancelTenant   operator
 *   GetTenant (by id or slug)                                        tenant:read on that tenant
 *   UpdateTenant                                                     tenant:write (safe fields; the rest operator)
 *   CreateApiKey, RevokeApiKey / ListApiKeys                         keys:write / keys:read on that tenant
 *   WatchTenants                                                     service scope tenants:watch (or operator)
 *
 * An empty tenant id means the caller's own tenant; for an operator it is INVALID_ARGUMENT.
 */
import { z } from "zod";
import { describePrincipal, principalTenant, type Permission, type Principal } from "../authz/index.js";
import { invalidArgument, notFound } from "../errors/index.js";
import { TenantServiceService, type TenantServiceServer } from "../gen/tenantmesh/v1/tenant.js";
import { parseRequest, type Policy, type RpcContext, type RpcKit } from "../grpc/index.js";
import { isPlanType } from "../plans/index.js";
import { toUserMessage } from "../users/store.js";
import { toApiKeyMessage } from "./api-key-store.js";
import { createApiKey, listKeys, revokeKey } from "./api-keys.js";
import type { TenantsDeps } from "./deps.js";
import { watchTenants } from "./feed/watch.js";
import { moveTenant, type LifecycleAction } from "./lifecycle.js";
import { isTenantStatus, toTenantMessage } from "./model.js";
import { provisionTenant } from "./provisioning/run.js";
import { getTenant, listTenants, requireUuid, updateTenant } from "./service.js";
import { findTenantIdBySlug } from "./store.js";

export { TenantServiceService };

const uuidOrEmpty = z.union([z.literal(""), z.uuid("must be a UUID")]);
const provisionSchema = z.object({
  name: z.string().max(1_000),
  slug: z.string().max(100),
  planType: z.string().max(50),
  adminEmail: z.string().max(320),
  adminPassword: z.string().max(1_024),
  billingInfo: z.record(z.string(), z.unknown()).optional(),
  billingCycle: z.string().max(20),
  idempotencyKey: z
    .string()
    .max(128, "must be at most 128 characters")
    .regex(/^[\x21-\x7e]*$/, "must be printable ASCII without spaces")
    .transform((v) => (v === "" ? undefined : v)),
});
const listSchema = z.object({
  pageSize: z.number().int().min(0, "must not be negative"),
  pageToken: z.string(),
  status: z.string().refine((s) => s === "" || isTenantStatus(s), "must be provisioning, active, suspended or cancelled"),
  planType: z.string().refine((s) => s === "" || isPlanType(s), "must be free, basic, professional or enterprise"),
});
const lifecycleSchema = z.object({ id: z.uuid("must be a UUID"), reason: z.string().max(500, "must be at most 500 characters") });
const createKeySchema = z.object({ tenantId: uuidOrEmpty, name: z.string().max(1_000), role: z.string().max(20), expiresAt: z.date().optional() });
const listKeysSchema = z.object({ tenantId: uuidOrEmpty, includeRevoked: z.boolean() });
const revokeKeySchema = z.object({ tenantId: uuidOrEmpty, keyId: z.string().min(1, "is required").max(64) });

/** A tenant policy on the request's tenant; empty means the caller's own (a malformed id is INVALID_ARGUMENT for anyone) */
function tenantPolicy<Req>(permission: Permission, pick: (req: Req) => string | undefined, field: string): Policy<Req> {
  return {
    kind: "tenant",
    permission,
    tenant: (req: Req, p: Principal) => {
      const id = pick(req) ?? "";
      return id === "" ? principalTenant(p) : requireUuid(id, field);
    },
  };
}

/** The authorized tenant, or INVALID_ARGUMENT when an operator named none */
function tenantOf(ctx: RpcContext, field: string): string {
  if (ctx.tenantId === undefined) throw invalidArgument([{ field, description: "is required" }]);
  return ctx.tenantId;
}

/** The TenantService implementation, every method wrapped in the kit's interceptor chain */
export function tenantServiceImplementation(kit: RpcKit, deps: TenantsDeps): TenantServiceServer {
  const { db, feed } = deps;
  const now = (): Date => new Date(deps.clock.now());
  /** Local writes wake the feed's poller at once; other replicas' writes arrive by polling */
  const changed = <T>(value: T): T => {
    feed.wake();
    return value;
  };
  const lifecycle = (action: LifecycleAction): TenantServiceServer["suspendTenant"] =>
    kit.unary(`TenantService/${action[0]?.toUpperCase()}${action.slice(1)}Tenant`, { kind: "operator" }, async (req, ctx) => {
      const { id, reason } = parseRequest(lifecycleSchema, req);
      const row = await moveTenant(db, { tenantId: id, action, actor: describePrincipal(ctx.principal), reason, now: now() });
      return changed(toTenantMessage(row));
    });

  return {
    provisionTenant: kit.unary("TenantService/ProvisionTenant", { kind: "operator" }, async (req, ctx) => {
      const input = parseRequest(provisionSchema, req);
      const env = { db, clock: deps.clock, apiKeyPepper: deps.apiKeyPepper, config: deps.provisioning, log: ctx.log };
      const out = await provisionTenant(env, deps.steps, { ...input, billingInfo: input.billingInfo }, describePrincipal(ctx.principal));
      return changed({
        tenant: toTenantMessage(out.tenant),
        adminUser: out.adminUser ? toUserMessage(out.adminUser) : undefined,
        adminPassword: out.adminPassword ?? "",
        apiKey: out.apiKeyToken ?? "",
        apiKeyInfo: out.apiKey ? toApiKeyMessage(out.apiKey) : undefined,
        replayed: out.replayed,
      });
    }),

    getTenant: kit.unary(
      "TenantService/GetTenant",
      {
        kind: "tenant",
        permission: "tenant:read",
        // By slug: resolved on the platform path, so an unknown slug and another tenant's slug look the same
        // to a tenant principal (PERMISSION_DENIED) and only an operator learns NOT_FOUND.
        tenant: async (req, p) => {
          if (req.id !== undefined && req.id !== "") return requireUuid(req.id, "id");
          if (req.slug !== undefined && req.slug !== "") {
            const slug = req.slug;
            if (!/^[a-z0-9-]{1,100}$/.test(slug)) return undefined;
            return db.asPlatform((trx) => findTenantIdBySlug(trx, slug));
          }
          const own = principalTenant(p);
          if (own === undefined) throw invalidArgument([{ field: "id", description: "id or slug is required" }]);
          return own;
        },
      },
      async (req, ctx) => {
        if (ctx.tenantId === undefined) throw notFound(`tenant with slug '${(req.slug ?? "").slice(0, 100)}'`);
        return getTenant(ctx);
      },
    ),

    listTenants: kit.unary("TenantService/ListTenants", { kind: "operator" }, async (req) => {
      const input = parseRequest(listSchema, req);
      return listTenants(db, {
        pageSize: input.pageSize,
        pageToken: input.pageToken,
        status: isTenantStatus(input.status) ? input.status : undefined,
        planType: isPlanType(input.planType) ? input.planType : undefined,
      });
    }),

    updateTenant: kit.unary("TenantService/UpdateTenant", tenantPolicy("tenant:write", (r) => r.tenant?.id, "tenant.id"), async (req, ctx) => {
      tenantOf(ctx, "tenant.id");
      if (req.tenant === undefined) throw invalidArgument([{ field: "tenant", description: "is required" }]);
      return changed(await updateTenant(ctx, req.tenant, req.updateMask ?? []));
    }),

    suspendTenant: lifecycle("suspend"),
    reactivateTenant: lifecycle("reactivate"),
    cancelTenant: lifecycle("cancel"),

    watchTenants: kit.serverStream("TenantService/WatchTenants", { kind: "scope", scope: "tenants:watch" }, (req, ctx, write) =>
      watchTenants(feed, req, ctx, write),
    ),

    createApiKey: kit.unary("TenantService/CreateApiKey", tenantPolicy("keys:write", (r) => r.tenantId, "tenant_id"), async (req, ctx) => {
      const input = parseRequest(createKeySchema, req);
      const tenantId = tenantOf(ctx, "tenant_id");
      const caller = { principal: ctx.principal, actor: describePrincipal(ctx.principal), pepper: deps.apiKeyPepper, now: now() };
      const key = await ctx.inTenant((trx) => createApiKey(trx, { ...input, expiresAt: input.expiresAt, tenantId }, caller));
      return changed({ apiKey: key.token, key: toApiKeyMessage(key.row) });
    }),

    listApiKeys: kit.unary("TenantService/ListApiKeys", tenantPolicy("keys:read", (r) => r.tenantId, "tenant_id"), async (req, ctx) => {
      const input = parseRequest(listKeysSchema, req);
      const tenantId = tenantOf(ctx, "tenant_id");
      const rows = await ctx.inTenant((trx) => listKeys(trx, tenantId, input.includeRevoked));
      return { keys: rows.map(toApiKeyMessage) };
    }),

    revokeApiKey: kit.unary("TenantService/RevokeApiKey", tenantPolicy("keys:write", (r) => r.tenantId, "tenant_id"), async (req, ctx) => {
      const input = parseRequest(revokeKeySchema, req);
      const tenantId = tenantOf(ctx, "tenant_id");
      const row = await ctx.inTenant((trx) => revokeKey(trx, tenantId, input.keyId, describePrincipal(ctx.principal), now()));
      return changed(toApiKeyMessage(row));
    }),
  };
}
