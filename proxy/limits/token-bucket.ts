/**
 * Token-bucket arithmetic, shared by the in-memory throttle and (as Lua, in redis-script.ts) by the Redis one,
 * so both enforce the same numbers. A bucket holds at most `capacity` tokens and gains `ratePerMs` tokens per
 * millisecond; a request spends one. Over any interval of T ms a bucket therefore admits at most
 * `capacity + ratePerMs × T` requests — for the per-minute limit, `burst + api_rate_limit` per minute.
 *
 * State is two numbers in a plain mutable object (one per tenant and bucket), so a decision allocates nothing.
 */
export interface BucketState {
  /** Tokens held at `at` (fractional: refill is continuous) */
  tokens: number;
  /** Clock reading (ms) the tokens were counted at */
  at: number;
}

/** A bucket's shape: how fast it fills and how much it holds */
export interface BucketSpec {
  readonly ratePerMs: number;
  readonly capacity: number;
}

/** A new bucket is full: a tenant's first requests may use its whole burst */
export const fullBucket = (spec: BucketSpec, now: number): BucketState => ({ tokens: spec.capacity, at: now });

/**
 * Brings `state` up to `now` (refill, capped at capacity). A clock that went backwards refills nothing rather
 * than draining the bucket: a stepped wall clock must not turn into rejections.
 */
export function refill(state: BucketState, spec: BucketSpec, now: number): void {
  const elapsed = now - state.at;
  if (elapsed > 0) {
    const tokens = state.tokens + elapsed * spec.ratePerMs;
    state.tokens = tokens < spec.capacity ? tokens : spec.capacity;
  }
  state.at = now;
}

/** Milliseconds until the (refilled) bucket holds one whole token; 0 when it already does */
export function msUntilToken(state: BucketState, spec: BucketSpec): number {
  if (state.tokens >= 1) return 0;
  if (!(spec.ratePerMs > 0)) return Number.POSITIVE_INFINITY;
  return (1 - state.tokens) / spec.ratePerMs;
}

/** Seconds until the bucket is full again from `tokens` (the `t` of the RateLimit header) */
export function secondsUntilFull(tokens: number, spec: BucketSpec): number {
  if (tokens >= spec.capacity || !(spec.ratePerMs > 0)) return 0;
  return Math.ceil((spec.capacity - tokens) / spec.ratePerMs / 1000);
}

/**
 * The per-minute bucket of `api_rate_limit` requests per minute holding `burst` tokens (at least one, or a
 * tenant with burst 0 could never send). Undefined when the tenant has no rate limit (0).
 */
export function minuteSpec(apiRateLimit: number, burst: number): BucketSpec | undefined {
  if (!(apiRateLimit > 0)) return undefined;
  return { ratePerMs: apiRateLimit / 60_000, capacity: Math.max(1, burst) };
}

/**
 * The throughput ceiling: `maxThroughputRps` per second, holding one second's worth, so a burst drawn from the
 * per-minute bucket is paced at this rate. Undefined when the tenant has none (0).
 */
export function secondSpec(maxThroughputRps: number): BucketSpec | undefined {
  if (!(maxThroughputRps > 0)) return undefined;
  return { ratePerMs: maxThroughputRps / 1000, capacity: Math.max(1, maxThroughputRps) };
}
