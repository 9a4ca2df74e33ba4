import type { Clock } from "../../src/auth/clock.js";
import { silentLogger, type Logger } from "../../src/log/index.js";
import type { TenantEntry } from "../directory/types.js";
import type { ProxyMetrics } from "../metrics.js";
import type { DispatchQueue } from "../pipeline/dispatch-queue.js";
import type { RequestHook } from "../pipeline/record.js";
import type { Throttle } from "../pipeline/throttle.js";
import type { Cluster, RouteTable } from "../upstream/types.js";
import { AdaptiveCluster, adaptiveRoutes, type AdaptiveOptions } from "./adaptive.js";
import { FairDispatchQueue } from "./fair-queue.js";
import { IsolationMetrics } from "./isolation-metrics.js";
import { LocalThrottle } from "./local-throttle.js";
import { RedisThrottle, type ThrottleMode } from "./redis-throttle.js";

export { AdaptiveCluster, adaptiveRoutes, type AdaptiveOptions } from "./adaptive.js";
export { FairDispatchQueue, type FairQueueOptions, type QueueObserver, type WaitOutcome } from "./fair-queue.js";
export { IsolationMetrics, quotaEnforcement } from "./isolation-metrics.js";
export { LocalThrottle, type LocalThrottleOptions } from "./local-throttle.js";
export { RateLimitedError, rateLimitFields, retryAfterMs, type LimitName } from "./rate-limited.js";
export { RedisThrottle, type RedisThrottleOptions, type ThrottleMode } from "./redis-throttle.js";
export { fairWeight, tierFactors } from "./weights.js";

export interface IsolationOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Where queue and throttle series go (its registry, its bounded tenant label) */
  readonly metrics: ProxyMetrics;
  /** Share rate limits through this Redis; undefined keeps them in this process */
  readonly redisUrl?: string | undefined;
  /** All waiters of one cluster's queue, and the longest wait (the proxy's queueMaxLength / queueMaxWaitMs) */
  readonly queueMaxLength: number;
  readonly queueMaxWaitMs: number;
  /** One tenant's waiters at most, as a multiple of its cluster's total capacity (default 4) */
  readonly tenantQueueFactor?: number;
  /** Prefix of the Redis keys (default `tm:rl:`), so deployments or test runs may share one Redis */
  readonly redisKeyPrefix?: string;
  /** Each replica's share of the limits while Redis is down (default 1) */
  readonly insuranceShare?: number;
  readonly weightOf?: (tenant: TenantEntry) => number;
  /** Adaptive per-cluster concurrency (adaptive.ts) for routes passed through `routes()`; false turns it off */
  readonly adaptive?: false | Omit<AdaptiveOptions, "clock">;
}

/** The performance-isolation layer, ready to hand to createProxy */
export interface Isolation {
  readonly throttle: Throttle;
  readonly createQueue: (cluster: Cluster) => DispatchQueue;
  /** Tracks each tenant's backend time and feeds the adaptive limits (the record stage's hooks) */
  readonly hook: RequestHook;
  /** The route table with adaptive clusters (unchanged when adaptive concurrency is off) */
  routes(source: () => RouteTable): () => RouteTable;
  /** `redis` or `local` with Redis configured; undefined without */
  mode(): ThrottleMode | undefined;
  close(): Promise<void>;
}

/**
 * Builds the throttle (in memory, or through Redis with local insurance) and the per-cluster weighted fair
 * queues, with their metrics registered. The proxy process's default (proxy/main.ts).
 */
export function createIsolation(options: IsolationOptions): Isolation {
  const { clock } = options;
  const redis =
    options.redisUrl === undefined
      ? undefined
      : new RedisThrottle({
          url: options.redisUrl,
          clock,
          logger: options.logger ?? silentLogger,
          insuranceShare: options.insuranceShare ?? 1,
          ...(options.redisKeyPrefix ? { keyPrefix: options.redisKeyPrefix } : {}),
        });
  const throttle: Throttle = redis ?? new LocalThrottle({ clock, share: 1 });
  const mode = (): ThrottleMode | undefined => redis?.mode;
  const metrics = new IsolationMetrics(options.metrics, clock, redis === undefined ? undefined : mode);
  const factor = options.tenantQueueFactor ?? 4;
  const adaptive = options.adaptive === false ? undefined : adaptiveRoutes({ clock, ...options.adaptive });

  const createQueue = (cluster: Cluster): DispatchQueue => {
    const capacity = cluster.backends().reduce((sum, b) => sum + b.capacity, 0);
    const queue = new FairDispatchQueue({
      clock,
      maxLength: options.queueMaxLength,
      maxWaitMs: options.queueMaxWaitMs,
      tenantMaxLength: Math.max(2, Math.ceil(factor * capacity)),
      // Under tenant-affinity, "all full" may mean only this tenant's subset (or its reserved-slot access)
      allFullStopsEveryone: cluster.strategy !== "tenant-affinity",
      observer: metrics.observer(cluster.name),
      ...(options.weightOf ? { weightOf: options.weightOf } : {}),
    });
    metrics.track(cluster.name, queue);
    // A raised adaptive limit is room like a released slot: waiters take it at once
    if (cluster instanceof AdaptiveCluster) {
      cluster.onRaise = () => queue.onRelease();
      metrics.trackAdaptive(cluster);
    }
    return queue;
  };

  return {
    throttle,
    createQueue,
    hook: adaptive === undefined ? metrics.hook : (ctx, error) => {
      metrics.hook(ctx, error);
      adaptive.hook(ctx);
    },
    routes: (source) => (adaptive === undefined ? source : adaptive.routes(source)),
    mode,
    close: async () => {
      await redis?.close();
    },
  };
}
