import type { Backend } from "../upstream/backend.js";
import {
  failNoneAvailable,
  pickResultsFor,
  queueAllFull,
  type Balancer,
  type PickRequest,
  type PickResult,
} from "./balancer.js";

/**
 * Least connections relative to capacity: picks the available backend with the lowest inFlight/capacity, so a
 * backend advertising twice the capacity takes twice the concurrent requests. The choice is exact rather than
 * power-of-two-choices: one pass over a cluster's backends is cheap (see bench/balancer.bench.ts) and exact picks
 * never send a request to the busier of two random backends. Ties are broken round robin (the scan starts one
 * further on each pick and only a strictly lower load wins), so an idle cluster is not herded onto backend 0.
 */
export class LeastConnectionsBalancer implements Balancer {
  readonly name = "least-connections" as const;
  private backends: readonly Backend[] = [];
  private picks: PickResult[] = [];
  private start = 0;

  constructor(backends: readonly Backend[]) {
    this.update(backends);
  }

  update(backends: readonly Backend[]): void {
    this.picks = pickResultsFor(backends);
    this.backends = [...backends];
    this.start = 0;
  }

  pick(request: PickRequest): PickResult {
    const backends = this.backends;
    const n = backends.length;
    if (n === 0) return failNoneAvailable;
    let anyAvailable = false;
    let healthy = -1;
    let healthyLoad = Infinity;
    let degraded = -1;
    let degradedLoad = Infinity;
    let i = this.start;
    this.start = i + 1 === n ? 0 : i + 1;
    for (let seen = 0; seen < n; seen++, i = i + 1 === n ? 0 : i + 1) {
      const b = backends[i]!;
      if (!b.isAvailable(request.now)) continue;
      anyAvailable = true;
      if (b.inFlight >= b.capacity) continue;
      const load = b.inFlight / b.capacity;
      if (b.health === "healthy") {
        if (load < healthyLoad) {
          healthy = i;
          healthyLoad = load;
        }
      } else if (load < degradedLoad) {
        degraded = i;
        degradedLoad = load;
      }
    }
    if (healthy >= 0) return this.picks[healthy]!;
    if (degraded >= 0) return this.picks[degraded]!;
    return anyAvailable ? queueAllFull : failNoneAvailable;
  }
}
