import type { Clock } from "../../src/auth/clock.js";
import type { TenantEntry } from "../directory/types.js";
import type { Throttle, ThrottleDecision } from "../pipeline/throttle.js";
import { bucketRefusal, concurrencyRefusal, type RateLimitedError } from "./rate-limited.js";
import { minuteSpec, msUntilToken, refill, secondSpec, type BucketSpec, type BucketState } from "./token-bucket.js";

/**
 * What one tenant's limits hold in this process. The bucket specs are derived from the TenantEntry they were
 * computed for and recomputed when the directory replaces that entry (entries are immutable, so identity
 * tells a change), keeping the tokens a tenant had — capped to a smaller burst — across a quota change.
 */
export class TenantLimitState {
  inFlight = 0;
  entry: TenantEntry | undefined = undefined;
  minuteSpec: BucketSpec | undefined = undefined;
  secondSpec: BucketSpec | undefined = undefined;
  minute: BucketState = { tokens: 0, at: 0 };
  second: BucketState = { tokens: 0, at: 0 };
  /** The unscaled buckets as the shared (Redis) script takes them: rate per ms and capacity, 0 for none */
  shared = { minuteRate: 0, minuteCap: 0, secondRate: 0, secondCap: 0 };
  /** Until this clock reading the shared (Redis) bucket is known to be empty: refuse without asking */
  emptyUntil = 0;
  /** Which shared bucket was found empty */
  emptyBucket: "minute" | "second" = "minute";
  lastUsed = 0;

  /** Syncs the specs with `tenant` (`share` of each limit); a new tenant starts with full buckets */
  sync(tenant: TenantEntry, now: number, share: number): void {
    if (this.entry === tenant) return;
    const fresh = this.entry === undefined;
    this.entry = tenant;
    this.minuteSpec = scaled(minuteSpec(tenant.apiRateLimit, tenant.burst), share);
    this.secondSpec = scaled(secondSpec(tenant.maxThroughputRps), share);
    this.emptyUntil = 0;
    const m = minuteSpec(tenant.apiRateLimit, tenant.burst);
    const s = secondSpec(tenant.maxThroughputRps);
    this.shared = { minuteRate: m?.ratePerMs ?? 0, minuteCap: m?.capacity ?? 0, secondRate: s?.ratePerMs ?? 0, secondCap: s?.capacity ?? 0 };
    for (const [state, spec] of [[this.minute, this.minuteSpec], [this.second, this.secondSpec]] as const) {
      if (spec === undefined) continue;
      if (fresh) {
        state.tokens = spec.capacity;
        state.at = now;
      } else if (state.tokens > spec.capacity) state.tokens = spec.capacity;
    }
  }
}

export interface LocalThrottleOptions {
  readonly clock: Clock;
  /**
   * Fraction of each rate limit this process enforces on its own (default 1). A fleet of N replicas that
   * falls back to local limits when Redis is down may set 1/N so the fleet as a whole stays near the limit.
   */
  readonly share?: number;
  /** Idle tenants whose buckets are full again are forgotten every this many decisions (default 65,536) */
  readonly sweepEvery?: number;
}

/**
 * Per-tenant limits in this process's memory: `max_concurrent_requests` requests in flight, a token bucket of
 * `api_rate_limit` per minute holding `burst`, and a `max_throughput_rps` bucket holding one second's worth.
 * A request needs a token from both buckets (taken from both or from neither) and a concurrency slot; the slot
 * is held until the throttle stage calls `release`, on every path. Synchronous: the proxy's default throttle,
 * and the insurance limiter of the Redis throttle.
 */
export class LocalThrottle implements Throttle {
  private readonly states = new Map<string, TenantLimitState>();
  private readonly clock: Clock;
  private readonly share: number;
  private readonly sweepEvery: number;
  private decisions = 0;

  constructor(options: LocalThrottleOptions) {
    this.clock = options.clock;
    this.share = options.share ?? 1;
    if (!(this.share > 0 && this.share <= 1)) throw new RangeError(`share must be in (0, 1], got ${this.share}`);
    this.sweepEvery = options.sweepEvery ?? 65_536;
  }

  admit(tenant: TenantEntry): ThrottleDecision {
    const now = this.clock.now();
    const state = this.stateOf(tenant, now);
    const busy = this.concurrencyRefusal(tenant, state);
    if (busy !== undefined) return busy;
    const refusal = this.spend(tenant, state, now);
    if (refusal !== undefined) return reject(refusal);
    return this.occupy(state);
  }

  /** The state of `tenant`, created on first use and synced with its current entry */
  stateOf(tenant: TenantEntry, now: number): TenantLimitState {
    let state = this.states.get(tenant.id);
    if (state === undefined) {
      state = new TenantLimitState();
      this.states.set(tenant.id, state);
    }
    state.sync(tenant, now, this.share);
    state.lastUsed = now;
    if (++this.decisions % this.sweepEvery === 0) this.sweep(now);
    return state;
  }

  /** A refusal when the tenant is at its concurrency limit in this process, else undefined */
  concurrencyRefusal(tenant: TenantEntry, state: TenantLimitState): ThrottleDecision | undefined {
    const limit = tenant.maxConcurrentRequests;
    return limit > 0 && state.inFlight >= limit ? reject(concurrencyRefusal(tenant, state.inFlight)) : undefined;
  }

  /** Takes one token from each of the tenant's buckets, or none and says which one refused */
  spend(tenant: TenantEntry, state: TenantLimitState, now: number): RateLimitedError | undefined {
    const m = state.minuteSpec;
    const s = state.secondSpec;
    if (m !== undefined) refill(state.minute, m, now);
    if (s !== undefined) refill(state.second, s, now);
    if (m !== undefined && state.minute.tokens < 1) return bucketRefusal(tenant, "minute", state.minute.tokens, msUntilToken(state.minute, m));
    if (s !== undefined && state.second.tokens < 1) return bucketRefusal(tenant, "second", state.second.tokens, msUntilToken(state.second, s));
    if (m !== undefined) state.minute.tokens -= 1;
    if (s !== undefined) state.second.tokens -= 1;
    return undefined;
  }

  /** Counts one request in flight and hands out its one-shot release */
  occupy(state: TenantLimitState): ThrottleDecision {
    state.inFlight++;
    let released = false;
    return {
      kind: "allow",
      release: () => {
        if (released) return;
        released = true;
        state.inFlight--;
      },
    };
  }

  /** Requests of `tenantId` in flight in this process */
  inFlight(tenantId: string): number {
    return this.states.get(tenantId)?.inFlight ?? 0;
  }

  /** Tenants with state held (for tests: idle ones are swept) */
  get size(): number {
    return this.states.size;
  }

  /** Forgets tenants with nothing in flight whose buckets have refilled: a fresh state is the same */
  sweep(now: number): void {
    for (const [id, state] of this.states) {
      if (state.inFlight > 0) continue;
      const m = state.minuteSpec;
      const s = state.secondSpec;
      const mFull = m === undefined || state.minute.tokens + (now - state.minute.at) * m.ratePerMs >= m.capacity;
      const sFull = s === undefined || state.second.tokens + (now - state.second.at) * s.ratePerMs >= s.capacity;
      if (mFull && sFull && now >= state.emptyUntil) this.states.delete(id);
    }
  }
}

/** A bucket `share` of the size and rate (the insurance share of a replica) */
function scaled(spec: BucketSpec | undefined, share: number): BucketSpec | undefined {
  if (spec === undefined || share === 1) return spec;
  return { ratePerMs: spec.ratePerMs * share, capacity: Math.max(1, spec.capacity * share) };
}

/** The throttle stage's reject decision for a refusal */
export function reject(error: RateLimitedError): ThrottleDecision {
  return { kind: "reject", error, retryAfterSeconds: error.retryAfterSeconds ?? 1 };
}
