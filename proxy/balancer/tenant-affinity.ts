import type { Backend } from "../upstream/backend.js";
import {
  failNoneAvailable,
  pickResultsFor,
  queueAllFull,
  type Balancer,
  type BalancerOptions,
  type PickRequest,
  type PickResult,
} from "./balancer.js";
import { fnv1a32, rendezvousScore } from "./hash.js";

/**
 * Tenant affinity: each tenant's requests prefer a stable subset of backends, so a tenant's working set stays warm
 * on few backends and a noisy tenant saturates its own subset before it touches anyone else's.
 *
 * Subset: all backends ranked by weighted rendezvous hashing of (tenant id, backend id); the subset is the first
 * `scale` of them (clamped to [1, backends]). Adding or removing a backend therefore only changes the subsets it
 * enters or leaves, and a scale change only lengthens or shortens the prefix. The ranking, not the subset, is
 * cached per tenant, so scale changes cost nothing; `update` drops the cache.
 *
 * Choice, in this order (the first step that finds a backend with a slot wins):
 *   1. healthy subset members;  2. healthy backends outside the subset (overflow: every healthy subset member is
 *   saturated or unavailable);  3. degraded subset members;  4. degraded backends outside the subset.
 * Health outranks affinity: losing cache warmth is cheaper than sending a request to a backend that is failing.
 * Within a step the lowest score wins, score = (inFlight + this tenant's inFlight) / capacity, which is the load
 * with the tenant's own requests counted twice, so a tenant spreads across its subset instead of piling onto one
 * backend; ties go to the higher-ranked backend (stable overflow targets, warmer caches).
 *
 * Priority rule: a backend's last ceil(capacity × reservedForPriority) slots (default 0.125; at most capacity − 1,
 * so every tenant can use at least one slot) are usable only by tenants with priority ≥ priorityThreshold
 * (default 7). A tenant below the threshold sees a backend as saturated once inFlight reaches capacity − reserved.
 * So when two tenants compete for the last free slots of a backend, the higher-priority one gets them whichever
 * asks first, and the lower-priority one overflows to a backend with unreserved room or gets `queue`; ordering
 * among queued tenants is the fair queue's job.
 */
export class TenantAffinityBalancer implements Balancer {
  readonly name = "tenant-affinity" as const;
  private readonly reserveFraction: number;
  private readonly priorityThreshold: number;
  private readonly maxCachedTenants: number;
  private backends: readonly Backend[] = [];
  private picks: PickResult[] = [];
  /** Per backend index: the slots open to tenants below the priority threshold */
  private openSlots = new Int32Array(0);
  /** Tenant id → all backend indices in rendezvous order; insertion order doubles as eviction order */
  private readonly rankings = new Map<string, Uint32Array>();

  // Scan state kept in fields so a pick allocates nothing
  private healthy = -1;
  private healthyScore = Infinity;
  private degraded = -1;
  private degradedScore = Infinity;
  private sawAvailable = false;

  constructor(backends: readonly Backend[], options: BalancerOptions = {}) {
    this.reserveFraction = options.reservedForPriority ?? 0.125;
    this.priorityThreshold = options.priorityThreshold ?? 7;
    this.maxCachedTenants = options.maxCachedTenants ?? 10_000;
    if (!(this.reserveFraction >= 0 && this.reserveFraction < 1)) {
      throw new RangeError(`reservedForPriority must be in [0, 1), got ${this.reserveFraction}`);
    }
    if (!Number.isFinite(this.priorityThreshold)) throw new RangeError("priorityThreshold must be a finite number");
    if (!Number.isInteger(this.maxCachedTenants) || this.maxCachedTenants < 1) {
      throw new RangeError(`maxCachedTenants must be a positive integer, got ${this.maxCachedTenants}`);
    }
    this.update(backends);
  }

  update(backends: readonly Backend[]): void {
    this.picks = pickResultsFor(backends);
    this.backends = [...backends];
    this.openSlots = Int32Array.from(backends, (b) => {
      // The epsilon keeps float noise (0.1 × 30 = 3.0000000000000004) from reserving an extra slot
      const reserved = Math.min(Math.ceil(b.capacity * this.reserveFraction - 1e-9), b.capacity - 1);
      return b.capacity - reserved;
    });
    this.rankings.clear();
  }

  pick(request: PickRequest): PickResult {
    const n = this.backends.length;
    if (n === 0) return failNoneAvailable;
    const { tenant, now } = request;
    const ranking = this.rankingFor(tenant.id);
    const k = clampScale(tenant.scale, n);
    const limited = tenant.priority < this.priorityThreshold;

    this.healthy = -1;
    this.healthyScore = Infinity;
    this.degraded = -1;
    this.degradedScore = Infinity;
    this.sawAvailable = false;
    this.scan(ranking, 0, k, tenant.id, limited, now);
    if (this.healthy >= 0) return this.picks[this.healthy]!;
    const subsetDegraded = this.degraded;
    this.degraded = -1;
    this.degradedScore = Infinity;
    this.scan(ranking, k, n, tenant.id, limited, now);
    if (this.healthy >= 0) return this.picks[this.healthy]!;
    if (subsetDegraded >= 0) return this.picks[subsetDegraded]!;
    if (this.degraded >= 0) return this.picks[this.degraded]!;
    return this.sawAvailable ? queueAllFull : failNoneAvailable;
  }

  /** The backends a tenant of this scale prefers, best first; for the admin API (allocates, not for hot paths) */
  subsetFor(tenantId: string, scale: number): Backend[] {
    const n = this.backends.length;
    if (n === 0) return [];
    const ranking = this.rankingFor(tenantId);
    const subset: Backend[] = [];
    for (let r = 0; r < clampScale(scale, n); r++) subset.push(this.backends[ranking[r]!]!);
    return subset;
  }

  private scan(ranking: Uint32Array, from: number, to: number, tenantId: string, limited: boolean, now: number): void {
    for (let r = from; r < to; r++) {
      const i = ranking[r]!;
      const b = this.backends[i]!;
      if (!b.isAvailable(now)) continue;
      this.sawAvailable = true;
      if (b.inFlight >= (limited ? this.openSlots[i]! : b.capacity)) continue;
      const score = (b.inFlight + b.inFlightFor(tenantId)) / b.capacity;
      if (b.health === "healthy") {
        if (score < this.healthyScore) {
          this.healthy = i;
          this.healthyScore = score;
        }
      } else if (score < this.degradedScore) {
        this.degraded = i;
        this.degradedScore = score;
      }
    }
  }

  private rankingFor(tenantId: string): Uint32Array {
    const cached = this.rankings.get(tenantId);
    if (cached !== undefined) return cached;
    const tenantHash = fnv1a32(tenantId);
    const backends = this.backends;
    const scores = backends.map((b) => rendezvousScore(tenantHash, b.id, b.weight));
    const order = backends.map((_, i) => i);
    // Equal scores are practically impossible (32-bit hashes); ids, not list positions, decide them if they occur
    order.sort((a, b) => scores[b]! - scores[a]! || (backends[a]!.id < backends[b]!.id ? -1 : 1));
    const ranking = Uint32Array.from(order);
    if (this.rankings.size >= this.maxCachedTenants) {
      const oldest = this.rankings.keys().next();
      if (oldest.done !== true) this.rankings.delete(oldest.value);
    }
    this.rankings.set(tenantId, ranking);
    return ranking;
  }
}

/** Subset size: the tenant's scale as a whole number in [1, backends]; a missing or bad scale means 1 */
function clampScale(scale: number, backends: number): number {
  const s = Math.floor(scale);
  return s >= backends ? backends : s >= 1 ? s : 1;
}
