import type { Backend } from "../upstream/backend.js";

/** The strategies a cluster may name in its configuration */
export const strategyNames = ["round-robin", "least-connections", "tenant-affinity"] as const;
export type StrategyName = (typeof strategyNames)[number];

/** The tenant facts a pick may weigh, taken from the tenant directory */
export interface PickTenant {
  readonly id: string;
  /** 1–10, higher wins contested capacity (see tenant-affinity's reserved slots) */
  readonly priority: number;
  /** How many backends the tenant's requests may spread over (tenant-affinity's subset size) */
  readonly scale: number;
}

/** One pick. Allocation-free for the caller to reuse: balancers never keep or mutate it */
export interface PickRequest {
  readonly tenant: PickTenant;
  /** Epoch ms, from the injected clock; compared with `Backend.ejectedUntil` */
  readonly now: number;
}

/**
 * The outcome of a pick, as a tagged union in the manner of grpc-js's picker results. Neither `queue` nor
 * `fail` is an exception: both are expected states of a cluster.
 * - `pick`: send the request to `backend`, after `backend.acquire(tenant.id)` in the same synchronous turn.
 * - `queue`: some backend is available but none has a slot for this tenant; the fair queue decides who goes next
 *   when a slot is released.
 * - `fail`: no backend is available at all (none, or all unhealthy or ejected); queueing would not help.
 */
export type PickResult =
  | { readonly kind: "pick"; readonly backend: Backend }
  | { readonly kind: "queue"; readonly reason: string }
  | { readonly kind: "fail"; readonly reason: string };

/**
 * A load-balancing strategy over one cluster's backends. Contract shared by every strategy:
 * - an `unhealthy` backend, or one ejected until after `now`, is never picked;
 * - a `degraded` backend is picked only when no healthy available backend has a slot for the request;
 * - a pick never exceeds a backend's capacity: when every available backend is full the result is `queue`.
 * Picks are synchronous and read live `Backend` state, so health and load changes need nothing from the owner.
 */
export interface Balancer {
  readonly name: StrategyName;
  /** Chooses a backend for one request; does not acquire the slot (the caller does, so it holds the release) */
  pick(request: PickRequest): PickResult;
  /** Replaces the backend list after a membership change; backends that stay keep their in-flight state */
  update(backends: readonly Backend[]): void;
}

/** Strategy tuning; each strategy reads only the fields it documents and ignores the rest */
export interface BalancerOptions {
  /** tenant-affinity: fraction of each backend's capacity held back for high-priority tenants (default 0.125) */
  readonly reservedForPriority?: number;
  /** tenant-affinity: the priority from which a tenant may use reserved slots (default 7) */
  readonly priorityThreshold?: number;
  /** tenant-affinity: how many tenants' backend rankings to cache (default 10,000; oldest evicted first) */
  readonly maxCachedTenants?: number;
}

export type BalancerFactory = (backends: readonly Backend[], options: BalancerOptions) => Balancer;

/** Shared results, so that a pick allocates nothing */
export const queueAllFull: PickResult = Object.freeze({ kind: "queue", reason: "every available backend is at capacity" });
export const failNoneAvailable: PickResult = Object.freeze({ kind: "fail", reason: "no healthy backend is available" });

/**
 * One frozen `pick` result per backend, built at construction and on `update`, indexed like the backend list.
 * Also rejects duplicate ids: two entries for one backend would double its share and corrupt hashing.
 */
export function pickResultsFor(backends: readonly Backend[]): PickResult[] {
  const seen = new Set<string>();
  return backends.map((backend) => {
    if (seen.has(backend.id)) throw new RangeError(`duplicate backend id ${backend.id}`);
    seen.add(backend.id);
    return Object.freeze({ kind: "pick", backend } as const);
  });
}
