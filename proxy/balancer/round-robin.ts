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
 * Plain round robin: each pick takes the next available backend with a free slot after the last one picked, so
 * over any run of picks the backends that stayed eligible differ by at most one pick. Full backends are skipped
 * rather than waited for; weight and tenant are ignored by design (use tenant-affinity for either).
 */
export class RoundRobinBalancer implements Balancer {
  readonly name = "round-robin" as const;
  private backends: readonly Backend[] = [];
  private picks: PickResult[] = [];
  /** Index the next scan starts from: one past the last pick */
  private cursor = 0;

  constructor(backends: readonly Backend[]) {
    this.update(backends);
  }

  update(backends: readonly Backend[]): void {
    this.picks = pickResultsFor(backends);
    this.backends = [...backends];
    // Keeping the cursor (not resetting to 0) avoids sending a burst to the first backend on every update
    this.cursor = backends.length === 0 ? 0 : this.cursor % backends.length;
  }

  pick(request: PickRequest): PickResult {
    const backends = this.backends;
    const n = backends.length;
    let anyAvailable = false;
    let degraded = -1;
    let i = this.cursor;
    for (let seen = 0; seen < n; seen++, i = i + 1 === n ? 0 : i + 1) {
      const b = backends[i]!;
      if (!b.isAvailable(request.now)) continue;
      anyAvailable = true;
      if (b.inFlight >= b.capacity) continue;
      if (b.health === "healthy") return this.take(i);
      // The first degraded backend in rotation order is remembered, used only if no healthy one has a slot
      if (degraded < 0) degraded = i;
    }
    if (degraded >= 0) return this.take(degraded);
    return anyAvailable ? queueAllFull : failNoneAvailable;
  }

  private take(i: number): PickResult {
    this.cursor = i + 1 === this.backends.length ? 0 : i + 1;
    return this.picks[i]!;
  }
}
