import type { TenantEntry } from "../directory/types.js";

/** How much a performance tier multiplies a tenant's priority level into its fair-queuing weight */
export const tierFactors: Readonly<Record<string, number>> = Object.freeze({ standard: 1, premium: 2, enterprise: 4 });

/**
 * A tenant's share of a full cluster, relative to the other tenants waiting for it: priority level (1–10) ×
 * tier factor (standard 1, premium 2, enterprise 4). With the plan catalogue: free 2, basic 4,
 * professional 14, enterprise 40. The smallest weight is 1 and the largest 40, so in any mix of waiting
 * tenants each one is dispatched at least weight / Σ weights of the time: nobody waiting is ever starved.
 */
export function fairWeight(tenant: TenantEntry): number {
  const priority = Math.min(10, Math.max(1, Math.round(tenant.priority) || 1));
  return priority * (tierFactors[tenant.performanceTier] ?? 1);
}
