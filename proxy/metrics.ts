import { Counter, Gauge, Histogram, Registry } from "prom-client";
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
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly rejections: Counter<string>;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: ProxyMetricsOptions = {}) {
    this.limit = options.topTenants ?? 20;
    this.maxTracked = options.maxTrackedTenants ?? 100_000;
    const registers = [this.registry];
    this.requests = new Counter({
      name: "tenantmesh_proxy_requests_total",
      help: "Requests finished by the proxy",
      labelNames: ["tenant", "cluster", "backend", "protocol", "outcome", "code"],
      registers,
    });
    this.duration = new Histogram({
      name: "tenantmesh_proxy_request_duration_seconds",
      help: "Time from request start to the end of the response, through the proxy",
      labelNames: ["tenant", "cluster", "protocol", "outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.rejections = new Counter({
      name: "tenantmesh_proxy_rejections_total",
      help: "Requests refused before forwarding, by reason (unauthenticated, suspended, rate_limited, …)",
      labelNames: ["tenant", "reason"],
      registers,
    });
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
    this.counter(tenant, this.requests, "r", [tenant, r.cluster, r.backend, r.protocol, r.outcome, r.code]).inc();
    const values = [tenant, r.cluster, r.protocol, r.outcome];
    const histogram = this.duration;
    this.remember(tenant, "d", values, () => histogram.labels(...values), () => histogram.remove(...values)).observe(r.durationMs / 1000);
  }

  recordRejection(tenantId: string | undefined, reason: string): void {
    const tenant = this.count(tenantId);
    this.counter(tenant, this.rejections, "j", [tenant, reason]).inc();
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

  /** The labelled child for `values`, created once and remembered under its tenant for later removal */
  private remember<C>(tenant: string, tag: string, values: readonly string[], make: () => C, remove: () => void): C {
    let forTenant = this.series.get(tenant);
    if (forTenant === undefined) {
      forTenant = new Map();
      this.series.set(tenant, forTenant);
    }
    const key = `${tag}\u0000${values.join("\u0000")}`;
    let entry = forTenant.get(key) as (Series & { child: C }) | undefined;
    if (entry === undefined) {
      entry = { child: make(), remove };
      forTenant.set(key, entry);
    }
    return entry.child;
  }

  private counter(tenant: string, metric: Counter<string>, tag: string, values: string[]): { inc(): void } {
    return this.remember(tenant, tag, values, () => metric.labels(...values), () => metric.remove(...values));
  }
}
