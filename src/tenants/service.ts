/**
 * TenantService's reads and updates. Lifecycle moves are in lifecycle.ts, provisioning in provisioning/,
 * keys in api-keys.ts, the feed in feed/. Every function takes the RPC context the interceptor chain made,
 * so the tenant it acts on has already been authorized.
 */
import { describePrincipal } from "../authz/index.js";
import type { Database } from "../db/index.js";
import { invalidArgument, notFound, TenantMeshError } from "../errors/index.js";
import type { ListTenantsResponse, Tenant } from "../gen/tenantmesh/v1/tenant.js";
import type { RpcContext } from "../grpc/index.js";
import type { PlanType } from "../plans/index.js";
import { toTenantMessage, type TenantStatus } from "./model.js";
import { createdAtIdCursor, decodePageToken, encodePageToken } from "../grpc/page-token.js";
import { findTenant, insertTenantEvent, listTenants as listTenantRows, updateTenant as updateTenantRow } from "./store.js";
import { buildPatch, checkMask } from "./update-mask.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** The authorized tenant of a tenant policy; an operator naming an unknown slug ends here as NOT_FOUND */
function authorizedTenant(ctx: RpcContext): string {
  if (ctx.tenantId === undefined || ctx.tenantId === "") throw notFound("tenant");
  return ctx.tenantId;
}

export async function getTenant(ctx: RpcContext): Promise<Tenant> {
  const id = authorizedTenant(ctx);
  const row = await ctx.inTenant((trx) => findTenant(trx, id));
  if (row === undefined) throw notFound(`tenant ${id}`);
  return toTenantMessage(row);
}

export interface ListInput {
  pageSize: number;
  pageToken: string;
  status: TenantStatus | undefined;
  planType: PlanType | undefined;
}

/** Operators' listing, every tenant across RLS, in creation order with keyset page tokens */
export async function listTenants(db: Database, input: ListInput): Promise<ListTenantsResponse> {
  const filters = { status: input.status ?? "", planType: input.planType ?? "" };
  const after = input.pageToken === "" ? undefined : decodePageToken(input.pageToken, createdAtIdCursor, [filters.status, filters.planType]);
  const limit = input.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(input.pageSize, MAX_PAGE_SIZE);
  // One row more than the page tells whether another page exists without a count.
  const rows = await db.asPlatform((trx) => listTenantRows(trx, { limit: limit + 1, after, status: input.status, planType: input.planType }));
  const page = rows.slice(0, limit);
  const last = rows.length > limit ? page.at(-1) : undefined;
  return { tenants: page.map((r) => toTenantMessage(r.row)), nextPageToken: last ? encodePageToken(last.cursor, [filters.status, filters.planType]) : "" };
}

/**
 * Applies the masked fields. Tenant principals may change only the safe fields (update-mask.ts); a plan change
 * re-derives every plan column. The row is locked so concurrent updates apply one after the other, and the
 * change is recorded as events in the same transaction.
 */
export async function updateTenant(ctx: RpcContext, tenant: Tenant, mask: readonly string[]): Promise<Tenant> {
  const id = authorizedTenant(ctx);
  const paths = checkMask(mask, ctx.principal.kind === "operator");
  const actor = describePrincipal(ctx.principal);
  const row = await ctx.inTenant(async (trx) => {
    const current = await findTenant(trx, id, { forUpdate: true });
    if (current === undefined) throw notFound(`tenant ${id}`);
    if (current.status === "cancelled") throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "the tenant is cancelled; it cannot be changed");
    const patch = buildPatch(current, paths, tenant);
    const updated = await updateTenantRow(trx, id, patch);
    if (updated === undefined) throw notFound(`tenant ${id}`);
    await insertTenantEvent(trx, { tenantId: id, type: "updated", actor, detail: { paths } });
    if (patch.plan_type !== undefined && patch.plan_type !== current.plan_type) {
      await insertTenantEvent(trx, { tenantId: id, type: "plan_changed", actor, detail: { from: current.plan_type, to: patch.plan_type } });
    }
    return updated;
  });
  return toTenantMessage(row);
}

/** An id from a request: a UUID or INVALID_ARGUMENT naming the field */
export function requireUuid(value: string, field: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw invalidArgument([{ field, description: value === "" ? "is required" : "must be a UUID" }]);
  }
  return value;
}
