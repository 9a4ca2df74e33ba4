import type { Database } from "../db/index.js";
import { notFound, TenantMeshError } from "../errors/index.js";
import type { TenantRow, TenantStatus } from "./model.js";
import { findTenant, insertTenantEvent, updateTenant } from "./store.js";

/**
 * The status lifecycle: provisioning → active ⇄ suspended → cancelled. Provisioning's own move to active is
 * its final step; the operator moves are these three. Anything else is FAILED_PRECONDITION.
 */
export const lifecycleMoves = {
  suspend: { from: ["active"], to: "suspended", event: "suspended" },
  reactivate: { from: ["suspended"], to: "active", event: "reactivated" },
  cancel: { from: ["active", "suspended"], to: "cancelled", event: "cancelled" },
} as const satisfies Record<string, { from: readonly TenantStatus[]; to: TenantStatus; event: string }>;

export type LifecycleAction = keyof typeof lifecycleMoves;

export interface LifecycleRequest {
  tenantId: string;
  action: LifecycleAction;
  /** describePrincipal of the operator */
  actor: string;
  reason: string;
  now: Date;
}

/**
 * Moves a tenant along the lifecycle: the row is locked, the move checked, the status (and, on cancel,
 * deleted_at) written, and the event recorded, all in one transaction. Cancel is a soft delete: the rows stay
 * for data_retention_days.
 */
export async function moveTenant(db: Database, req: LifecycleRequest): Promise<TenantRow> {
  const move = lifecycleMoves[req.action];
  return db.asPlatform(async (trx) => {
    const tenant = await findTenant(trx, req.tenantId, { forUpdate: true });
    if (tenant === undefined) throw notFound(`tenant ${req.tenantId}`);
    if (!(move.from as readonly TenantStatus[]).includes(tenant.status)) {
      throw new TenantMeshError(
        "TM_ERR_FAILED_PRECONDITION",
        `cannot ${req.action} a tenant that is ${tenant.status}: ${req.action} needs status ${move.from.join(" or ")}`,
      );
    }
    const updated = await updateTenant(trx, tenant.id, {
      status: move.to,
      ...(move.to === "cancelled" ? { deleted_at: req.now } : {}),
    });
    if (updated === undefined) throw notFound(`tenant ${req.tenantId}`);
    await insertTenantEvent(trx, {
      tenantId: tenant.id,
      type: move.event,
      actor: req.actor,
      detail: { from: tenant.status, to: move.to, ...(req.reason === "" ? {} : { reason: req.reason }) },
    });
    return updated;
  });
}
