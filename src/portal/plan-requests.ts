/**
 * Plan-change requests. A plan change re-derives quotas, tier and priority and changes what the tenant pays,
 * so UpdateTenant keeps `plan_type` operator-only; a tenant admin instead records a request, and an operator
 * applies the plan (UpdateTenant, as with the CLI) and then resolves the request. Requests and resolutions are
 * rows of `tenant_events` (the tenant's own history, under its RLS policy), so the record is append-only and
 * every step names who took it.
 */
import type { Database, Tx } from "../db/index.js";
import { notFound, TenantMeshError } from "../errors/index.js";
import type { PlanChangeRequest } from "../gen/tenantmesh/v1/portal.js";
import { insertTenantEvent } from "../tenants/store.js";

export const PLAN_CHANGE_REQUESTED = "plan_change_requested";
export const PLAN_CHANGE_RESOLVED = "plan_change_resolved";

interface EventRow {
  id: string;
  tenant_id: string;
  event_type: string;
  actor: string;
  detail: Record<string, unknown> | string;
  created_at: Date;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const detailOf = (row: EventRow): Record<string, unknown> => (typeof row.detail === "string" ? (JSON.parse(row.detail) as Record<string, unknown>) : row.detail);

/** Folds request and resolution events (oldest first) into requests, newest first */
function fold(rows: EventRow[]): PlanChangeRequest[] {
  const byId = new Map<string, PlanChangeRequest>();
  for (const row of rows) {
    const d = detailOf(row);
    if (row.event_type === PLAN_CHANGE_REQUESTED) {
      byId.set(row.id, {
        id: row.id,
        tenantId: row.tenant_id,
        currentPlan: str(d.current_plan),
        requestedPlan: str(d.requested_plan),
        reason: str(d.reason),
        requestedBy: row.actor,
        requestedAt: new Date(row.created_at),
        status: "pending",
        resolvedBy: "",
        resolvedAt: undefined,
        resolutionNote: "",
      });
    } else {
      const request = byId.get(str(d.request_id));
      if (request === undefined || request.status !== "pending") continue;
      Object.assign(request, { status: str(d.status), resolvedBy: row.actor, resolvedAt: new Date(row.created_at), resolutionNote: str(d.note) });
    }
  }
  return [...byId.values()].reverse();
}

const eventsQuery = (trx: Tx) =>
  trx<EventRow>("tenant_events").whereIn("event_type", [PLAN_CHANGE_REQUESTED, PLAN_CHANGE_RESOLVED]).orderBy([{ column: "created_at" }, { column: "id" }]);

/** One tenant's requests, inside its RLS transaction */
export async function listTenantRequests(trx: Tx, tenantId: string): Promise<PlanChangeRequest[]> {
  return fold(await eventsQuery(trx).where({ tenant_id: tenantId }));
}

/** Every tenant's pending requests: operators' cross-tenant path */
export async function listPendingRequests(db: Database): Promise<PlanChangeRequest[]> {
  const rows = await db.asPlatform((trx) => eventsQuery(trx));
  return fold(rows).filter((r) => r.status === "pending");
}

/**
 * Records a request. The tenant row is locked so two racing requests cannot both be the pending one; asking for
 * the current plan, or while another request is pending, is FAILED_PRECONDITION.
 */
export async function requestPlanChange(trx: Tx, input: { tenantId: string; planType: string; reason: string; actor: string }): Promise<PlanChangeRequest> {
  const tenant = (await trx("tenants").where({ id: input.tenantId }).forUpdate().first("plan_type", "status")) as { plan_type: string; status: string } | undefined;
  if (tenant === undefined) throw notFound(`tenant ${input.tenantId}`);
  if (tenant.status !== "active") throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `the tenant is ${tenant.status}; a plan change cannot be requested`);
  if (tenant.plan_type === input.planType) throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `the tenant is already on the ${input.planType} plan`);
  const pending = (await listTenantRequests(trx, input.tenantId)).find((r) => r.status === "pending");
  if (pending !== undefined) {
    throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `a request for the ${pending.requestedPlan} plan is already pending`);
  }
  await insertTenantEvent(trx, {
    tenantId: input.tenantId,
    type: PLAN_CHANGE_REQUESTED,
    actor: input.actor,
    detail: { current_plan: tenant.plan_type, requested_plan: input.planType, reason: input.reason },
  });
  const mine = (await listTenantRequests(trx, input.tenantId)).find((r) => r.status === "pending");
  if (mine === undefined) throw new Error("the plan change request just recorded is missing");
  return mine;
}

/**
 * Approves or rejects a pending request. Approval does not change the plan: it records that an operator did so
 * (UpdateTenant), and is refused while the tenant is not yet on the requested plan, so the record never claims
 * a change that did not happen.
 */
export async function resolvePlanChange(
  trx: Tx,
  input: { tenantId: string; requestId: string; approve: boolean; note: string; actor: string },
): Promise<PlanChangeRequest> {
  const tenant = (await trx("tenants").where({ id: input.tenantId }).forUpdate().first("plan_type")) as { plan_type: string } | undefined;
  if (tenant === undefined) throw notFound(`tenant ${input.tenantId}`);
  const request = (await listTenantRequests(trx, input.tenantId)).find((r) => r.id === input.requestId);
  if (request === undefined) throw notFound(`plan change request ${input.requestId}`);
  if (request.status !== "pending") throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `the request is already ${request.status}`);
  if (input.approve && tenant.plan_type !== request.requestedPlan) {
    throw new TenantMeshError(
      "TM_ERR_FAILED_PRECONDITION",
      `the tenant is on the ${tenant.plan_type} plan: apply the ${request.requestedPlan} plan with UpdateTenant first, then approve`,
    );
  }
  const status = input.approve ? "approved" : "rejected";
  await insertTenantEvent(trx, { tenantId: input.tenantId, type: PLAN_CHANGE_RESOLVED, actor: input.actor, detail: { request_id: request.id, status, note: input.note } });
  return { ...request, status, resolvedBy: input.actor, resolvedAt: new Date(), resolutionNote: input.note };
}
