import { Redis } from "ioredis";
import type { Clock } from "../../src/auth/clock.js";
import { silentLogger, type Logger } from "../../src/log/index.js";
import type { TenantEntry } from "../directory/types.js";
import type { Throttle, ThrottleDecision } from "../pipeline/throttle.js";
import { LocalThrottle, reject, type TenantLimitState } from "./local-throttle.js";
import { bucketRefusal } from "./rate-limited.js";
import { bucketScript, type BucketAnswer } from "./redis-script.js";

export interface RedisThrottleOptions {
  /** `redis://…`; the throttle owns the connection it opens */
  readonly url: string;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Key prefix, so several deployments may share one Redis (default `tm:rl:`) */
  readonly keyPrefix?: string;
  /** A Redis answer slower than this counts as Redis failing (default 100 ms): the request is decided locally */
  readonly commandTimeoutMs?: number;
  /** While on local limits, how often Redis is probed for a recovery the connection does not report (default 1 s) */
  readonly probeIntervalMs?: number;
  /** The insurance limiter's share of each limit while Redis is down (LocalThrottleOptions.share, default 1) */
  readonly insuranceShare?: number;
}

/** Where rate decisions are made right now */
export type ThrottleMode = "redis" | "local";

/**
 * Per-tenant limits shared by every proxy replica through Redis:
 * - the per-minute and per-second token buckets live in Redis and are spent by one atomic script
 *   (redis-script.ts), so N replicas together admit at most `burst + api_rate_limit` per minute;
 * - the concurrency limit stays per replica (it bounds what this process holds in flight; sharing it would
 *   cost a second round trip per request and leak slots when a replica dies mid-request);
 * - after Redis says a tenant's bucket is empty, the replica refuses that tenant locally until the bucket can
 *   hold a token again, so a flooding tenant costs Redis one call per refill interval, not one per request.
 * When Redis fails (connection lost, command error, answer slower than `commandTimeoutMs`) the throttle
 * switches to its insurance limiter — the same buckets in local memory — logs that once, and keeps probing;
 * when Redis answers again (the client's reconnect, or a successful probe) it switches back and logs that once.
 */
export class RedisThrottle implements Throttle {
  readonly redis: Redis;
  private readonly local: LocalThrottle;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly spend: ReturnType<typeof bucketScript>;
  private readonly probeIntervalMs: number;
  private currentMode: ThrottleMode = "local";
  private probe: NodeJS.Timeout | undefined;
  private closed = false;
  private warnedAtStart = false;
  /** Transitions since start, for metrics and tests */
  failovers = 0;
  recoveries = 0;

  constructor(options: RedisThrottleOptions) {
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger).child({ component: "throttle" });
    this.local = new LocalThrottle({ clock: options.clock, share: options.insuranceShare ?? 1 });
    this.probeIntervalMs = options.probeIntervalMs ?? 1_000;
    this.redis = new Redis(options.url, {
      // Fail at once while disconnected instead of queueing: a request must not wait for a reconnect
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 100,
      // Requests arriving in the same tick share one write to the socket
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
    });
    this.redis.on("ready", () => this.up("connected"));
    // Errors are reported once per outage by down(); before the first connection, once here
    this.redis.on("error", (err: Error) => {
      if (this.currentMode === "local" && this.failovers === 0 && !this.warnedAtStart) {
        this.warnedAtStart = true;
        this.logger.warn({ err: err.message }, "redis is not reachable yet: rate limits are local to this replica until it is");
      }
    });
    this.redis.on("close", () => this.down("connection closed"));
    this.spend = bucketScript(this.redis, options.keyPrefix ?? "tm:rl:");
  }

  /** `redis` while decisions are shared, `local` while the insurance limiter decides */
  get mode(): ThrottleMode {
    return this.currentMode;
  }

  admit(tenant: TenantEntry): ThrottleDecision | Promise<ThrottleDecision> {
    const now = this.clock.now();
    const state = this.local.stateOf(tenant, now);
    const busy = this.local.concurrencyRefusal(tenant, state);
    if (busy !== undefined) return busy;
    if (this.currentMode === "local") {
      const refusal = this.local.spend(tenant, state, now);
      return refusal === undefined ? this.local.occupy(state) : reject(refusal);
    }
    if (now < state.emptyUntil) return reject(bucketRefusal(tenant, state.emptyBucket, 0, state.emptyUntil - now));
    if (tenant.apiRateLimit <= 0 && tenant.maxThroughputRps <= 0) return this.local.occupy(state);
    // The slot is held while Redis answers, so concurrent requests cannot overshoot the concurrency limit
    const held = this.local.occupy(state);
    return this.spend(tenant.id, state.shared).then(
      (answer) => this.decide(tenant, state, answer, held),
      (err: unknown) => {
        this.down(`command failed: ${(err as Error).message}`);
        const refusal = this.local.spend(tenant, state, this.clock.now());
        if (refusal === undefined) return held;
        if (held.kind === "allow") held.release();
        return reject(refusal);
      },
    );
  }

  /** Requests of `tenantId` in flight through this replica */
  inFlight(tenantId: string): number {
    return this.local.inFlight(tenantId);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probe !== undefined) clearInterval(this.probe);
    this.probe = undefined;
    this.redis.disconnect();
  }

  private decide(tenant: TenantEntry, state: TenantLimitState, answer: BucketAnswer, held: ThrottleDecision): ThrottleDecision {
    if (answer.allowed) return held;
    if (held.kind === "allow") held.release();
    const bucket = answer.refusedBy ?? "minute";
    state.emptyUntil = this.clock.now() + answer.waitMs;
    state.emptyBucket = bucket;
    return reject(bucketRefusal(tenant, bucket, answer.tokens, answer.waitMs));
  }

  private up(how: string): void {
    if (this.closed || this.currentMode === "redis") return;
    const wasDown = this.failovers > 0;
    this.currentMode = "redis";
    if (this.probe !== undefined) clearInterval(this.probe);
    this.probe = undefined;
    if (wasDown) {
      this.recoveries++;
      this.logger.info({ how }, "redis is back: rate limits are shared again");
    } else this.logger.info("rate limits are shared through redis");
  }

  private down(why: string): void {
    if (this.closed || this.currentMode === "local") return;
    this.currentMode = "local";
    this.failovers++;
    this.logger.warn({ why }, "redis is unavailable: rate limits fall back to this replica's local limits until it returns");
    this.startProbe();
  }

  /** A hung Redis keeps its connection "ready": only a successful command proves it answers again */
  private startProbe(): void {
    if (this.probe !== undefined) return;
    this.probe = setInterval(() => {
      if (this.redis.status !== "ready") return; // the client's own reconnect will emit "ready"
      this.redis.ping().then(
        () => this.up("probe answered"),
        () => undefined,
      );
    }, this.probeIntervalMs).unref();
  }
}
