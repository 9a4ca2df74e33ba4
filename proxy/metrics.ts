import { Gauge, Registry } from "prom-client";
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from "./hot-metrics.js";
import type { UpstreamProtocol } from "./upstream/types.js";

/** One finished request, as the record stage reports it */
export interface RequestRecord {
  /** The verified tenant; never an id taken unverified from the request (it would buy a label) */
  readonly tenantId: string | undefined;
  readonly cluster: string;
  readonly backend: string;
  readonly protocol: UpstreamProtocol;
  readonly outcome: "ok" | "error" | "rejected";
  /** HTTP status (`200`) or gRPC status name (`OK`, `UNAVAILABLE`) */
  readonly code: string;
  readonly durationMs: number;
}

export interface ProxyMetricsOptions {
  /** Tenants that get their own label value (default 20); everyone else is `other` */
  readonly topTenants?: number;
  /** How often the top tenants are chosen again from recent traffic (default 60 s); 0 disables the timer */
  readonly recomputeIntervalMs?: number;
  /** Distinct tenants counted per window before new ones are ignored (default 100,000): bounds memory */
  readonly maxTrackedTenants?: number;
}

/** The label value of every tenant outside the top N, and of requests with no verified tenant */
export const OTHER_TENANT = "other";

type Series = { remove(): void };

/**
 * The proxy's Prometheus metrics, in a Registry of its own (tests and embedded processes never collide in the
 * global one). Per-tenant series are bounded: only the top N tenants by recent traffic carry their id as the
 * `tenant` label, all others share `other`, so with any number of tenants each metric has at most N + 1 tenant
 * values. The choice is remade every interval from an exponentially decayed request count (half the old score
 * plus the new window), which keeps a tenant from flapping in and out on one quiet minute. Until N tenants
 * have been seen, newcomers are admitted at once so a fresh proxy is not all `other`. A tenant that drops out
 * of the top has its series removed (a counter that disappears is what Prometheus expects; moving its totals
 * into `other` would show as a spike).
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly limit: number;
  private readonly maxTracked: number;
  private top = new Set<string>();
  private window = new Map<string, number>();
  private scores = new Map<string, number>();
  /** Children created per tenant label, so that leaving the top removes exactly them */
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly inFlightBy = new Map<string, number>();
  private readonly requests: HotCounter;
  private readonly duration: HotHistogram;
  private readonly rejections: HotCounter;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: ProxyMetricsOptions = {}) {
    this.limit = options.topTenants ?? 20;
    this.maxTracked = options.maxTrackedTenants ?? 100_000;
    const registers = [this.registry];
    // The per-request series are hot-path metrics (plain numbers per series, formatted at scrape time)
    this.requests = new HotCounter("tenantmesh_proxy_requests_total", "Requests finished by the proxy", ["tenant", "cluster", "backend", "protocol", "outcome", "code"], this.registry);
    this.duration = new HotHistogram(
      "tenantmesh_proxy_request_duration_seconds",
      "Time from request start to the end of the response, through the proxy",
      ["tenant", "cluster", "protocol", "outcome"],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      this.registry,
    );
    this.rejections = new HotCounter(
      "tenantmesh_proxy_rejections_total",
      "Requests refused before forwarding, by reason (unauthenticated, suspended, rate_limited, …)",
      ["tenant", "reason"],
      this.registry,
    );
    const inFlightBy = this.inFlightBy;
    const labelOf = (id: string): string => (this.top.has(id) ? id : OTHER_TENANT);
    new Gauge({
      name: "tenantmesh_proxy_in_flight_requests",
      help: "Requests in flight through the proxy",
      labelNames: ["tenant"],
      registers,
      // Summed at scrape time from exact per-tenant counts, so a tenant changing label mid-request never
      // leaves a negative `other`
      collect() {
        this.reset();
        const sums = new Map<string, number>();
        for (const [id, n] of inFlightBy) sums.set(labelOf(id), (sums.get(labelOf(id)) ?? 0) + n);
        for (const [tenant, n] of sums) this.set({ tenant }, n);
      },
    });
    const every = options.recomputeIntervalMs ?? 60_000;
    this.timer = every > 0 ? setInterval(() => this.recomputeTopTenants(), every).unref() : undefined;
  }

  recordRequest(r: RequestRecord): void {
    const tenant = this.count(r.tenantId);
    const forTenant = this.seriesOf(tenant);
    const requestKey = `r\u0000${r.cluster}\u0000${r.backend}\u0000${r.protocol}\u0000${r.outcome}\u0000${r.code}`;
    let counted = forTenant.get(requestKey) as (Series & { child: CounterSeries }) | undefined;
    if (counted === undefined) counted = this.remember(forTenant, requestKey, this.requests, [tenant, r.cluster, r.backend, r.protocol, r.outcome, r.code]);
    counted.child.value++;
    const durationKey = `d\u0000${r.cluster}\u0000${r.protocol}\u0000${r.outcome}`;
    let timed = forTenant.get(durationKey) as (Series & { child: HistogramSeries }) | undefined;
    if (timed === undefined) timed = this.remember(forTenant, durationKey, this.duration, [tenant, r.cluster, r.protocol, r.outcome]);
    timed.child.observe(r.durationMs / 1000);
  }

  recordRejection(tenantId: string | undefined, reason: string): void {
    const tenant = this.count(tenantId);
    const forTenant = this.seriesOf(tenant);
    const key = `j\u0000${reason}`;
    let counted = forTenant.get(key) as (Series & { child: CounterSeries }) | undefined;
    if (counted === undefined) counted = this.remember(forTenant, key, this.rejections, [tenant, reason]);
    counted.child.value++;
  }

  /** +1 when a request starts, −1 when it ends */
  inFlight(tenantId: string, delta: number): void {
    const n = (this.inFlightBy.get(tenantId) ?? 0) + delta;
    if (n > 0) this.inFlightBy.set(tenantId, n);
    else this.inFlightBy.delete(tenantId);
  }

  /** The label value `tenantId` currently gets */
  tenantLabel(tenantId: string | undefined): string {
    return tenantId !== undefined && this.top.has(tenantId) ? tenantId : OTHER_TENANT;
  }

  /** Chooses the top N again from decayed traffic and drops the series of tenants that fell out */
  recomputeTopTenants(): void {
    const scores = new Map<string, number>();
    for (const [id, s] of this.scores) if (s / 2 >= 0.5) scores.set(id, s / 2);
    for (const [id, n] of this.window) scores.set(id, (scores.get(id) ?? 0) + n);
    this.scores = scores;
    this.window = new Map();
    const next = new Set([...scores].sort((a, b) => b[1] - a[1]).slice(0, this.limit).map(([id]) => id));
    for (const id of this.top) {
      if (next.has(id)) continue;
      for (const s of this.series.get(id)?.values() ?? []) s.remove();
      this.series.delete(id);
    }
    this.top = next;
  }

  /** Prometheus text exposition of everything in this registry */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Counts one request toward the ranking and returns its label value */
  private count(tenantId: string | undefined): string {
    if (tenantId === undefined || tenantId === "" || tenantId === OTHER_TENANT) return OTHER_TENANT;
    const seen = this.window.get(tenantId);
    if (seen !== undefined) this.window.set(tenantId, seen + 1);
    else if (this.window.size < this.maxTracked) this.window.set(tenantId, 1);
    if (this.top.has(tenantId)) return tenantId;
    if (this.top.size < this.limit) {
      this.top.add(tenantId);
      return tenantId;
    }
    return OTHER_TENANT;
  }

  /** The series remembered for a tenant label, so that leaving the top removes exactly them */
  private seriesOf(tenant: string): Map<string, Series> {
    let forTenant = this.series.get(tenant);
    if (forTenant === undefined) {
      forTenant = new Map();
      this.series.set(tenant, forTenant);
    }
    return forTenant;
  }

  /** Creates the series of `values` in `metric` and remembers it under `key` for the tenant */
  private remember<C>(forTenant: Map<string, Series>, key: string, metric: { labels(values: readonly string[]): C; remove(values: readonly string[]): void }, values: string[]): Series & { child: C } {
    const entry = { child: metric.labels(values), remove: () => metric.remove(values) };
    forTenant.set(key, entry);
    return entry;
  }
}
