import { resourceTypes, type ResourceType } from "../plans/index.js";

/**
 * What the meter counts. The billed resource types come from the plan catalogue (they have rates); two more are
 * counted and never billed: the proxy's own refusals of a known tenant (`rejected_calls`: its 401/403s) and its
 * rate and quota refusals (`throttled_calls`: its 429s), which recommendations read ("frequent throttling").
 */
export const unbilledResourceTypes = ["rejected_calls", "throttled_calls"] as const;
export type UnbilledResourceType = (typeof unbilledResourceTypes)[number];

export type MeteredResourceType = ResourceType | UnbilledResourceType;
export const meteredResourceTypes: readonly MeteredResourceType[] = [...resourceTypes, ...unbilledResourceTypes];

const known: ReadonlySet<string> = new Set(meteredResourceTypes);
export const isMeteredResourceType = (value: string): value is MeteredResourceType => known.has(value);

/** The unit each resource type's events count in */
export const meteredUnits: Readonly<Record<MeteredResourceType, string>> = {
  api_calls: "calls",
  compute: "ms",
  storage: "bytes",
  businesses: "businesses",
  users: "users",
  rejected_calls: "calls",
  throttled_calls: "calls",
};

/** One usage event, validated: amount is a whole number ≥ 0 in the resource type's unit */
export interface UsageEvent {
  tenantId: string;
  resourceType: MeteredResourceType;
  amount: number;
  occurredAt: Date;
}
