import { Counter, Gauge, Histogram } from "prom-client";
import type { Clock } from "../../src/auth/clock.js";
import { OTHER_TENANT, type ProxyMetrics } from "../metrics.js";
import type { RequestHook } from "../pipeline/record.js";
import type { AdaptiveCluster } from "./adaptive.js";
import type { FairDispatchQueue, QueueObserver } from "./fair-queue.js";
import type { ThrottleMode } from "./redis-throttle.js";

/** How each quota of the seed's PerformanceQuota is handled, exported as `tenantmesh_proxy_quota_enforcement` */
export const quotaEnforcement: Readonly<Record<string, "enforced" | "tracked" | "not_enforceable" | "not_applicable">> = Object.freeze({
  api_rate_limit: "enforced",
  burst: "enforced",
  max_throughput_rps: "enforced",
  max_concurrent_reqs: "enforced",
  max_response_time_ms: "enforced",
  database_connections: "enforced",
  cpu_quota_millicores: "tracked",
  memory_quota_mb: "not_enforceable",
  cache_entries: "not_applicable",
});

const windowMs = 10_000;

/**
 * The isolation layer's series, in ProxyMetrics' registry and with its bounded `tenant` label (top N tenants
 * by traffic, everyone else `other`): fair-queue depth (read at scrape time) and wait per tenant, queue
 * refusals, the throttle's mode, and each tenant's backend occupancy — the slots it held, as busy seconds per
 * second and as a share of all — which is how CPU quotas are tracked: a Node process cannot meter CPU per
 * tenant, but the backend time a tenant's requests hold is what its CPU quota buys.
 */
export class IsolationMetrics {
  private readonly queues = new Set<{ cluster: string; queue: WeakRef<FairDispatchQueue> }>();
  private readonly adaptive = new Set<WeakRef<AdaptiveCluster>>();
  private readonly wait: Histogram<string>;
  private readonly refusals: Counter<string>;
  private readonly busy: Counter<string>;
  /** Busy ms per tenant id in the current and the previous window (the share gauge spans both) */
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private windowStart: number;
  /** Labelled children created per tenant label, removed at scrape once that tenant left the top N */
  private readonly children = new Map<string, Map<string, { child: unknown; remove: () => void }>>();

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly clock: Clock,
    mode?: () => ThrottleMode | undefined,
  ) {
    const registers = [metrics.registry];
    const label = (id: string): string => metrics.tenantLabel(id);
    const queues = this.queues;
    const self = this;
    this.windowStart = clock.now();
    new Gauge({
      name: "tenantmesh_proxy_queue_depth",
      help: "Requests waiting in a cluster's fair queue for a backend slot",
      labelNames: ["cluster", "tenant"],
      registers,
      collect() {
        this.reset();
        self.prune();
        for (const entry of queues) {
          const queue = entry.queue.deref();
          if (queue === undefined) {
            queues.delete(entry);
            continue;
          }
          const sums = new Map<string, number>();
          for (const [id, n] of queue.depthByTenant()) sums.set(label(id), (sums.get(label(id)) ?? 0) + n);
          for (const [tenant, n] of sums) this.set({ cluster: entry.cluster, tenant }, n);
        }
      },
    });
    this.wait = new Histogram({
      name: "tenantmesh_proxy_queue_wait_seconds",
      help: "Time requests waited in a cluster's fair queue, by how the wait ended",
      labelNames: ["cluster", "tenant", "outcome"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.refusals = new Counter({
      name: "tenantmesh_proxy_queue_refusals_total",
      help: "Requests refused at the fair queue's door: tenant_full (429) or queue_full (503)",
      labelNames: ["cluster", "tenant", "reason"],
      registers,
    });
    this.busy = new Counter({
      name: "tenantmesh_proxy_backend_busy_seconds_total",
      help: "Backend slot time held by each tenant's requests (slot acquired to response end)",
      labelNames: ["tenant"],
      registers,
    });
    new Gauge({
      name: "tenantmesh_proxy_backend_time_share",
      help: "Each tenant's share of all backend slot time over the last 10-20 s (tracks, does not enforce, CPU quotas)",
      labelNames: ["tenant"],
      registers,
      collect() {
        this.reset();
        self.rotate(self.clock.now());
        const sums = new Map<string, number>();
        let total = 0;
        for (const m of [self.previous, self.current]) {
          for (const [id, ms] of m) {
            sums.set(label(id), (sums.get(label(id)) ?? 0) + ms);
            total += ms;
          }
        }
        for (const [tenant, ms] of sums) this.set({ tenant }, total > 0 ? ms / total : 0);
      },
    });
    new Gauge({
      name: "tenantmesh_proxy_quota_enforcement",
      help: "1 per performance quota and how the mesh handles it: enforced; tracked (usage exported, not enforceable in a Node process); not_enforceable (not even measurable per tenant in a shared process); not_applicable (nothing to bound yet)",
      labelNames: ["quota", "mode"],
      registers,
      collect() {
        for (const [quota, how] of Object.entries(quotaEnforcement)) this.set({ quota, mode: how }, 1);
      },
    });
    const adaptive = this.adaptive;
    new Gauge({
      name: "tenantmesh_proxy_cluster_concurrency_limit",
      help: "A cluster's adaptive in-flight limit (its advertised capacity while backends keep up)",
      labelNames: ["cluster"],
      registers,
      collect() {
        this.reset();
        for (const ref of adaptive) {
          const c = ref.deref();
          if (c === undefined) adaptive.delete(ref);
          else this.set({ cluster: c.name }, c.limit);
        }
      },
    });
    if (mode !== undefined) {
      new Gauge({
        name: "tenantmesh_proxy_throttle_shared",
        help: "1 while rate limits are shared through Redis, 0 while this replica enforces them locally",
        registers,
        collect() {
          this.set(mode() === "redis" ? 1 : 0);
        },
      });
    }
  }

  /** Starts reporting a cluster's queue (held weakly: a reload's replaced clusters drop out) */
  track(cluster: string, queue: FairDispatchQueue): void {
    this.queues.add({ cluster, queue: new WeakRef(queue) });
  }

  /** Starts reporting an adaptive cluster's limit */
  trackAdaptive(cluster: AdaptiveCluster): void {
    this.adaptive.add(new WeakRef(cluster));
  }

  /** The observer a cluster's queue reports waits and refusals to */
  observer(cluster: string): QueueObserver {
    return {
      waited: (tenantId, ms, outcome) => {
        this.child(this.wait, "w", tenantId, cluster, outcome).observe(ms / 1000);
      },
      refused: (tenantId, reason) => {
        this.child(this.refusals, "r", tenantId, cluster, reason).inc();
      },
    };
  }

  /**
   * The labelled child for (cluster, tenant label, detail), or (tenant label) when `cluster` is empty, cached
   * per tenant label so the hot path builds no label arrays; prune() removes a tenant's children together.
   */
  private child<M extends Histogram<string> | Counter<string>>(metric: M, tag: string, tenantId: string, cluster: string, detail: string): ReturnType<M["labels"]> {
    const tenant = this.metrics.tenantLabel(tenantId);
    let forTenant = this.children.get(tenant);
    if (forTenant === undefined) {
      forTenant = new Map();
      this.children.set(tenant, forTenant);
    }
    const key = `${tag}${cluster}\u0000${detail}`;
    let entry = forTenant.get(key);
    if (entry === undefined) {
      const values = cluster === "" ? [tenant] : [cluster, tenant, detail];
      entry = { child: metric.labels(...values), remove: () => metric.remove(...values) };
      forTenant.set(key, entry);
    }
    return entry.child as ReturnType<M["labels"]>;
  }

  /** Drops the series of tenants that fell out of ProxyMetrics' top N (their traffic now counts as `other`) */
  private prune(): void {
    for (const [tenant, entries] of this.children) {
      if (tenant === OTHER_TENANT || this.metrics.tenantLabel(tenant) === tenant) continue;
      for (const entry of entries.values()) entry.remove();
      this.children.delete(tenant);
    }
  }

  /** The record-stage hook that adds each forwarded request's slot time to its tenant */
  readonly hook: RequestHook = (ctx) => {
    const tenantId = ctx.tenant?.id;
    if (tenantId === undefined || ctx.backend === undefined || ctx.timings.picked <= 0) return;
    const ms = Math.max(0, ctx.timings.end - ctx.timings.picked);
    this.child(this.busy, "b", tenantId, "", "").inc(ms / 1000);
    this.rotate(this.clock.now());
    this.current.set(tenantId, (this.current.get(tenantId) ?? 0) + ms);
  };

  private rotate(now: number): void {
    if (now - this.windowStart < windowMs) return;
    const skipped = now - this.windowStart >= 2 * windowMs;
    this.previous = skipped ? new Map() : this.current;
    this.current = new Map();
    this.windowStart = now;
  }
}
