/**
 * tenantmesh.v1.QuotaService over the RpcKit chain.
 *
 *   RecordUsage, AllocateResources, ReleaseResources, GetPool, ListPools   service scope usage:write (or operator)
 *   CheckQuota                        usage:read on the tenant, or a service with usage:write (proxies, backends)
 *   GetUsage                          usage:read on the tenant
 *
 * An empty tenant id means the caller's own tenant.
 */
import { z } from "zod";
import { authorize, principalTenant, requireScope, type Principal } from "../authz/index.js";
import { isUuid } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";
import { QuotaServiceService, type QuotaServiceServer } from "../gen/tenantmesh/v1/quota.js";
import { parseRequest, type Policy, type RpcContext, type RpcKit } from "../grpc/index.js";
import { validateBatch } from "../metering/index.js";
import { checkQuota } from "./check.js";
import type { QuotasDeps } from "./deps.js";
import { flowQuotaStatuses } from "./flow-status.js";
import { allocate, poolNames, poolState, release, requirePoolName } from "./pools.js";
import { allocationMessage, poolMessage, quotaMessage } from "./present.js";
import { readUsage, usageQuerySchema } from "./usage.js";

export { QuotaServiceService };

const tenantField = z.union([z.literal(""), z.uuid("must be a UUID")]);
const amountField = z.string().regex(/^\d{1,15}$/, "must be a whole number ≥ 0").transform(Number);
const checkSchema = z.object({ tenantId: tenantField, resourceType: z.string().max(50), amount: amountField });
const poolSchema = z.object({ tenantId: tenantField, pool: z.string().max(50), amount: amountField.refine((n) => n > 0, "must be at least 1") });

/** Services that feed usage or hold pool resources (proxies, backends), and operators */
const usageWrite = <Req>(): Policy<Req> => ({ kind: "scope", scope: "usage:write" });

/** The request's tenant, else the caller's own; INVALID_ARGUMENT when it is malformed or there is neither */
function requestTenant(id: string, principal: Principal): string {
  if (id !== "" && !isUuid(id)) throw invalidArgument([{ field: "tenant_id", description: "must be a UUID" }]);
  const tenantId = id === "" ? principalTenant(principal) : id.toLowerCase();
  if (tenantId === undefined) throw invalidArgument([{ field: "tenant_id", description: "is required" }]);
  return tenantId;
}

export function quotaServiceImplementation(kit: RpcKit, deps: QuotasDeps): QuotaServiceServer {
  const { db, clock, ingestor } = deps;
  // Quota answers count acknowledged usage that is not rolled up yet, without forcing a roll-up.
  const pending = ingestor.roller.pendingUsage;
  const ensurePools = deps.ensurePools;

  return {
    recordUsage: kit.unary("RecordUsage", usageWrite(), async (req, ctx) => {
      const now = clock.now();
      const batch = validateBatch(req, now);
      const result = await ingestor.record(batch);
      ctx.log.debug({ batch_id: batch.batchId, events: batch.events.length, duplicate: result.duplicate }, "usage batch");
      const tenants = req.returnQuotas ? [...new Set(batch.events.map((e) => e.tenantId))] : [];
      const quotas = req.returnQuotas ? await db.asPlatform((trx) => flowQuotaStatuses(trx, tenants, now, pending)) : [];
      return { batchId: batch.batchId, duplicate: result.duplicate, acceptedEvents: result.acceptedEvents, quotas: quotas.map(quotaMessage) };
    }),

    // A service checks quotas for tenants it serves; a tenant principal only its own (usage:read).
    checkQuota: kit.unary("CheckQuota", { kind: "authenticated" }, async (req, ctx: RpcContext) => {
      const r = parseRequest(checkSchema, req);
      const tenantId = requestTenant(r.tenantId, ctx.principal);
      if (ctx.principal.kind === "service") requireScope(ctx.principal, "usage:write");
      else authorize(ctx.principal, "usage:read", tenantId);
      const result = await db.withTenant(tenantId, (trx) => checkQuota(trx, tenantId, r.resourceType, r.amount, clock.now(), pending));
      return quotaMessage(result);
    }),

    getUsage: kit.unary(
      "GetUsage",
      { kind: "tenant", permission: "usage:read", tenant: (req, p) => requestTenant(req.tenantId, p) },
      async (req, ctx) => {
        const query = parseRequest(usageQuerySchema, req);
        const tenantId = ctx.tenantId ?? requestTenant("", ctx.principal);
        await ingestor.settle();
        return ctx.inTenant((trx) => readUsage(trx, tenantId, query, clock.now()));
      },
    ),

    allocateResources: kit.unary("AllocateResources", usageWrite(), async (req, ctx) => {
      const r = parseRequest(poolSchema, req);
      const tenantId = requestTenant(r.tenantId, ctx.principal);
      const pool = requirePoolName(r.pool);
      await ensurePools();
      const result = await db.asPlatform((trx) => allocate(trx, tenantId, pool, r.amount, clock.now()));
      ctx.log.info({ tenant_id: tenantId, pool, amount: r.amount, holding: result.allocated }, "pool resources allocated");
      return allocationMessage(result);
    }),

    releaseResources: kit.unary("ReleaseResources", usageWrite(), async (req, ctx) => {
      const r = parseRequest(poolSchema, req);
      const tenantId = requestTenant(r.tenantId, ctx.principal);
      const pool = requirePoolName(r.pool);
      await ensurePools();
      const result = await db.asPlatform((trx) => release(trx, tenantId, pool, r.amount, clock.now()));
      ctx.log.info({ tenant_id: tenantId, pool, amount: r.amount, holding: result.allocated }, "pool resources released");
      return allocationMessage(result);
    }),

    getPool: kit.unary("GetPool", usageWrite(), async (req) => {
      const pool = requirePoolName(req.name);
      await ensurePools();
      return poolMessage(await db.asPlatform((trx) => poolState(trx, pool)));
    }),

    listPools: kit.unary("ListPools", usageWrite(), async () => {
      await ensurePools();
      const pools = await db.asPlatform(async (trx) => {
        const states = [];
        for (const name of poolNames) states.push(await poolState(trx, name));
        return states;
      });
      return { pools: pools.map(poolMessage) };
    }),
  };
}
