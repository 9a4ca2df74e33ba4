import type { Clock } from "../../src/auth/clock.js";
import { queueAllFull, type PickResult, type PickTenant } from "../balancer/balancer.js";
import type { ProxyContext } from "../context.js";
import type { Backend } from "../upstream/backend.js";
import type { Cluster, ResolvedRoute, RouteTable, UpstreamOutcome } from "../upstream/types.js";

export interface AdaptiveOptions {
  readonly clock: Clock;
  /** How far slot time may rise above the unloaded baseline before the limit comes down (default 0.1: 10 %) */
  readonly tolerance?: number;
  /** The slot-time quantile controlled (default 0.9) */
  readonly quantile?: number;
  /** Length of one measurement interval (default 250 ms) */
  readonly intervalMs?: number;
  /** An interval counts as unloaded (teaches the baseline) while in flight stays at or below this share of capacity (default 0.25) */
  readonly unloadedShare?: number;
  /**
   * Slots only light tenants may use: a tenant with at most this many requests in flight on the cluster (default
   * 5 % of capacity, at least 1). Heavy tenants stop that many slots short of the limit, so a light tenant — the
   * victim of a noisy neighbour — finds a free slot at once instead of waiting for one to be released.
   */
  readonly lightReserve?: number;
  /**
   * The limit never goes below this share of the advertised capacity (default 0.5). Slot time can also rise for
   * reasons fewer requests cannot fix (other work on the machine); the floor bounds what such a misreading
   * costs — at most half the throughput — instead of letting the limit collapse.
   */
  readonly minShare?: number;
}

/** What a heavy tenant gets at its share of the limit: not "all full" — a light tenant behind it may still go */
const heavyHeld: PickResult = Object.freeze({ kind: "queue", reason: "the cluster's remaining slots are reserved for lightly loaded tenants" });

/**
 * A cluster whose usable concurrency adapts to what its backends really sustain (after Envoy's adaptive
 * concurrency filter and Netflix's concurrency-limits). Backends advertise a capacity in slots; when they
 * share CPU with each other (one machine, one core) they may run out of CPU long before they run out of slots,
 * and then every request slows — the victim of a noisy neighbour's included — although no slot is oversold.
 * So the time requests hold a slot is measured: its baseline is learnt while the cluster is lightly loaded,
 * and when under load the controlled quantile rises more than `tolerance` above it, the cluster's in-flight
 * limit comes down in proportion (never below `minShare` of the capacity); while the limit binds and slot time is back in bounds, it climbs again,
 * never above the advertised capacity. Requests over the limit wait in the cluster's fair queue as they would
 * for a full cluster, so fair queuing still decides who goes next. A few slots (`lightReserve`) are kept for
 * tenants with few requests in flight; in-flight never exceeds the advertised capacity either way.
 */
export class AdaptiveCluster implements Cluster {
  readonly name: string;
  readonly strategy: Cluster["strategy"];
  readonly protocol: Cluster["protocol"];
  /** Current in-flight limit across the cluster's backends */
  limit: number;
  /** Learnt unloaded slot time (ms) at the controlled quantile; undefined until learnt */
  baseline: number | undefined;
  /** Called when the limit rises, so waiters can use the room at once (the fair queue's onRelease) */
  onRaise: (() => void) | undefined;
  private samples = new Float64Array(512);
  private count = 0;
  private intervalStart: number;
  private peakInFlight = 0;
  private readonly tolerance: number;
  private readonly quantile: number;
  private readonly intervalMs: number;
  private readonly unloadedShare: number;
  private readonly reserve: number | undefined;
  private readonly minShare: number;

  constructor(
    readonly inner: Cluster,
    private readonly clock: Clock,
    options: Omit<AdaptiveOptions, "clock"> = {},
  ) {
    this.name = inner.name;
    this.strategy = inner.strategy;
    this.protocol = inner.protocol;
    this.limit = this.capacity();
    this.tolerance = options.tolerance ?? 0.1;
    this.quantile = options.quantile ?? 0.9;
    this.intervalMs = options.intervalMs ?? 250;
    this.unloadedShare = options.unloadedShare ?? 0.25;
    this.reserve = options.lightReserve;
    this.minShare = options.minShare ?? 0.5;
    this.intervalStart = clock.now();
  }

  pick(tenant: PickTenant, now: number): PickResult {
    const inFlight = this.inFlight();
    if (inFlight > this.peakInFlight) this.peakInFlight = inFlight;
    const capacity = this.capacity();
    const reserve = this.reserve ?? Math.max(1, Math.ceil(0.05 * capacity));
    if (reserve > 0 && this.inFlightOf(tenant.id) <= reserve) {
      if (inFlight >= Math.min(capacity, this.limit + reserve)) return queueAllFull;
    } else if (inFlight >= Math.min(this.limit, capacity - reserve)) return heavyHeld;
    return this.inner.pick(tenant, now);
  }

  /** Requests of one tenant in flight on the cluster's backends */
  inFlightOf(tenantId: string): number {
    let sum = 0;
    for (const b of this.inner.backends()) sum += b.inFlightFor(tenantId);
    return sum;
  }

  backends(): readonly Backend[] {
    return this.inner.backends();
  }

  recordOutcome(backend: Backend, outcome: UpstreamOutcome, now: number): void {
    this.inner.recordOutcome(backend, outcome, now);
  }

  /** The advertised capacity: the sum over the backends (membership may change on reload) */
  capacity(): number {
    let sum = 0;
    for (const b of this.inner.backends()) sum += b.capacity;
    return sum;
  }

  inFlight(): number {
    let sum = 0;
    for (const b of this.inner.backends()) sum += b.inFlight;
    return sum;
  }

  /** One finished request's slot time (ms); closes the interval when it is over */
  observe(slotMs: number, now: number): void {
    if (this.count < this.samples.length) this.samples[this.count++] = slotMs;
    else this.samples[Math.floor(Math.random() * this.samples.length)] = slotMs; // reservoir: still unbiased
    if (now - this.intervalStart >= this.intervalMs) this.adjust(now);
  }

  private adjust(now: number): void {
    const n = this.count;
    const capacity = this.capacity();
    const peak = this.peakInFlight;
    this.intervalStart = now;
    this.count = 0;
    this.peakInFlight = this.inFlight();
    if (n < 10) return;
    const sorted = this.samples.subarray(0, n).sort();
    const observed = sorted[Math.min(n - 1, Math.floor(this.quantile * n))]!;
    if (peak <= this.unloadedShare * capacity) {
      // Lower at once, higher only slowly: one slow interval must not teach the baseline a worse normal
      this.baseline = this.baseline === undefined || observed < this.baseline ? observed : this.baseline + 0.05 * (observed - this.baseline);
      return;
    }
    if (this.baseline === undefined) return;
    const target = this.baseline * (1 + this.tolerance);
    const floor = Math.max(1, this.inner.backends().length, Math.ceil(this.minShare * capacity));
    if (observed > target) {
      this.limit = Math.max(floor, Math.floor(this.limit * Math.max(0.5, target / observed)));
    } else if (peak >= this.limit - 1 && this.limit < capacity) {
      this.limit = Math.min(capacity, this.limit + Math.max(1, Math.round(this.limit * 0.05)));
      this.onRaise?.();
    }
    if (this.limit > capacity) this.limit = capacity;
  }
}

/**
 * Wraps a route table so every route's cluster is its AdaptiveCluster (one per Cluster object, kept across
 * table swaps that keep the cluster), and feeds slot times back through `hook`.
 */
export function adaptiveRoutes(options: AdaptiveOptions) {
  const clusters = new WeakMap<Cluster, AdaptiveCluster>();
  const clusterFor = (c: Cluster): AdaptiveCluster => {
    let a = clusters.get(c);
    if (a === undefined) {
      a = new AdaptiveCluster(c, options.clock, options);
      clusters.set(c, a);
    }
    return a;
  };
  const wrapTable = (inner: RouteTable): RouteTable => {
    const routes = new WeakMap<ResolvedRoute, ResolvedRoute>();
    const wrap = (r: ResolvedRoute | undefined): ResolvedRoute | undefined => {
      if (r === undefined) return undefined;
      let w = routes.get(r);
      if (w === undefined) {
        w = Object.freeze({ name: r.name, module: r.module, cluster: clusterFor(r.cluster) });
        routes.set(r, w);
      }
      return w;
    };
    return {
      matchHttp: (method, path) => wrap(inner.matchHttp(method, path)),
      matchGrpc: (service, method) => wrap(inner.matchGrpc(service, method)),
      clusters: () => inner.clusters().map(clusterFor),
    };
  };
  let lastInner: RouteTable | undefined;
  let lastOuter: RouteTable | undefined;
  return {
    routes(source: () => RouteTable): () => RouteTable {
      return () => {
        const inner = source();
        if (inner !== lastInner || lastOuter === undefined) {
          lastInner = inner;
          lastOuter = wrapTable(inner);
        }
        return lastOuter;
      };
    },
    /** The record-stage hook measuring each forwarded request's slot time */
    hook(ctx: ProxyContext): void {
      const cluster = ctx.route?.cluster;
      if (!(cluster instanceof AdaptiveCluster) || ctx.backend === undefined || ctx.timings.picked <= 0) return;
      cluster.observe(ctx.timings.end - ctx.timings.picked, options.clock.now());
    },
  };
}
