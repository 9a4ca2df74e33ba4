import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import type { ProxyContext } from "../context.js";
import type { TenantEntry } from "../directory/types.js";
import type { Handler, Stage, StageResult } from "./stage.js";

/**
 * One throttling decision. `allow` hands out a one-shot `release` that the throttle stage calls exactly once
 * when the request ends, on every path (success, error, client abort, timeout). `reject` is an expected
 * failure (TM_ERR_RATE_LIMITED or similar), with the seconds a client should wait before retrying.
 */
export type ThrottleDecision =
  | { readonly kind: "allow"; readonly release: () => void }
  | { readonly kind: "reject"; readonly error: TenantMeshError; readonly retryAfterSeconds: number };

/**
 * Decides whether a tenant may send a request now. Allocation-light: it runs on every request. In-memory
 * throttles answer synchronously (the fast path: no promise, no extra turn of the event loop); a throttle that
 * must ask a shared store (Redis, proxy/limits/redis-throttle.ts) may answer with a promise instead.
 */
export interface Throttle {
  admit(tenant: TenantEntry, ctx: ProxyContext): ThrottleDecision | Promise<ThrottleDecision>;
}

/** The observer of admitted requests (ProxyMetrics' in-flight gauge fits) */
export interface InFlightObserver {
  inFlight(tenantId: string, delta: number): void;
}

/**
 * Caps the requests of each tenant in flight at once at its `maxConcurrentRequests` (0 means no cap). Counts
 * live in a map that holds only tenants with requests in flight, so it stays as small as the load.
 */
export class ConcurrencyThrottle implements Throttle {
  private readonly inFlight = new Map<string, number>();

  admit(tenant: TenantEntry): ThrottleDecision {
    const limit = tenant.maxConcurrentRequests;
    const id = tenant.id;
    const current = this.inFlight.get(id) ?? 0;
    if (limit > 0 && current >= limit) {
      const error = withoutStack(() => new TenantMeshError("TM_ERR_RATE_LIMITED", `tenant ${tenant.slug} has ${current} requests in flight, its limit`, { retryAfterSeconds: 1 }));
      return { kind: "reject", error, retryAfterSeconds: 1 };
    }
    this.inFlight.set(id, current + 1);
    return new ConcurrencyGrant(this.inFlight, id);
  }

  /** Requests of `tenantId` in flight (for tests and /admin) */
  current(tenantId: string): number {
    return this.inFlight.get(tenantId) ?? 0;
  }
}

/**
 * What ConcurrencyThrottle grants: one request's place in its tenant's count, given back once. A class rather
 * than a closure per request: it is allocated on every admitted request.
 */
class ConcurrencyGrant {
  readonly kind = "allow";
  private released = false;

  constructor(
    private readonly inFlight: Map<string, number>,
    private readonly id: string,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    const n = (this.inFlight.get(this.id) ?? 1) - 1;
    if (n > 0) this.inFlight.set(this.id, n);
    else this.inFlight.delete(this.id);
  }
}

/** A throttle that admits everything, for tests and benchmarks that measure without limits */
export const unlimitedThrottle: Throttle = Object.freeze({
  admit: (): ThrottleDecision => allowAll,
});
const allowAll: ThrottleDecision = Object.freeze({ kind: "allow", release: () => undefined });

/**
 * Throttle: asks the Throttle and holds what it grants until the request is over. Also where in-flight
 * requests are counted for /metrics: from here on a request holds tenant capacity.
 */
export function throttle(limiter: Throttle, observer?: InFlightObserver): Stage {
  return (next: Handler): Handler =>
    async (ctx): Promise<StageResult> => {
      const tenant = ctx.tenant;
      if (tenant === undefined) throw new Error("throttle runs after identify: the context has no tenant");
      const asked = performance.now();
      const answer = limiter.admit(tenant, ctx);
      // Only a shared-store throttle answers with a promise; a synchronous answer is used as it is
      const decision = answer instanceof Promise ? await answer : answer;
      ctx.timings.throttledMs = performance.now() - asked;
      if (decision.kind === "reject") return withRetryAfter(decision.error, decision.retryAfterSeconds);
      observer?.inFlight(tenant.id, 1);
      try {
        return await next(ctx);
      } finally {
        decision.release();
        observer?.inFlight(tenant.id, -1);
      }
    };
}

/** The decision's wait travels on the error, where respond.ts reads it (Retry-After, grpc-retry-pushback-ms) */
function withRetryAfter(error: TenantMeshError, seconds: number): TenantMeshError {
  if (error.retryAfterSeconds !== undefined) return error;
  return withoutStack(() => new TenantMeshError(error.code, error.message, { retryAfterSeconds: seconds, cause: error.cause }));
}
