import type { ClusterWindow, TenantWindow } from "../../src/gen/tenantmesh/v1/monitor.js";
import { LatencyHistogram } from "../../src/telemetry/histogram.js";
import type { RequestSummary } from "./summary.js";

/** One tenant's running totals in the open window */
class TenantTotals {
  requests = 0;
  errors = 0;
  throttled = 0;
  queued = 0;
  queueWaitMs = 0;
  busyMs = 0;
  unitCapacity = 0;
  constructor(readonly histogram: LatencyHistogram) {}
}

export interface ClosedWindows {
  readonly tenants: TenantWindow[];
  readonly clusters: ClusterWindow[];
}

export interface WindowAggregatorOptions {
  /** Window length (default 10 s); windows are aligned to multiples of it since the epoch */
  readonly windowMs?: number;
  /** Backend slots this proxy balances over, asked when a window closes (the cluster window's capacity) */
  readonly capacitySlots: () => number;
  /** Tenants tracked per window at most; beyond, requests of further tenants are counted in `dropped` */
  readonly maxTenants?: number;
}

/**
 * Aggregates finished requests per tenant per window: counts of requests, server-side errors, throttles and
 * queue waits, busy time (capacity held), the unit capacity, and an HDR histogram of latencies. A window is
 * keyed by the time its requests ended. `close(now)` hands over every window that ended by `now`, encoded
 * for MonitorService.ReportMetrics, and recycles the histograms. Memory is one histogram (~14 KB) per tenant
 * with traffic in the open window(s).
 */
export class WindowAggregator {
  readonly windowMs: number;
  readonly #capacitySlots: () => number;
  readonly #maxTenants: number;
  /** window start → tenant id → totals */
  readonly #open = new Map<number, Map<string, TenantTotals>>();
  /** window start → busy ms of every request with a backend */
  readonly #busy = new Map<number, number>();
  readonly #pool: LatencyHistogram[] = [];
  /** Requests not aggregated because the window already tracked `maxTenants` tenants */
  dropped = 0;

  constructor(options: WindowAggregatorOptions) {
    this.windowMs = options.windowMs ?? 10_000;
    this.#capacitySlots = options.capacitySlots;
    this.#maxTenants = options.maxTenants ?? 50_000;
  }

  observe(r: RequestSummary): void {
    const start = r.endedAt - (r.endedAt % this.windowMs);
    let tenants = this.#open.get(start);
    if (tenants === undefined) {
      tenants = new Map();
      this.#open.set(start, tenants);
      this.#busy.set(start, 0);
    }
    if (r.busyMs > 0) this.#busy.set(start, (this.#busy.get(start) ?? 0) + r.busyMs);
    if (r.tenantId === undefined) return;
    let t = tenants.get(r.tenantId);
    if (t === undefined) {
      if (tenants.size >= this.#maxTenants) {
        this.dropped++;
        return;
      }
      t = new TenantTotals(this.#pool.pop() ?? LatencyHistogram.create());
      tenants.set(r.tenantId, t);
    }
    t.requests++;
    if (r.failed) t.errors++;
    if (r.throttled) t.throttled++;
    if (r.queuedMs > 0) {
      t.queued++;
      t.queueWaitMs += r.queuedMs;
    }
    t.busyMs += r.busyMs;
    if (r.backendCapacity > t.unitCapacity) t.unitCapacity = r.backendCapacity;
    t.histogram.recordMs(r.durationMs);
  }

  /** Windows that ended by `now` (all of them with `all`, e.g. at shutdown), removed from the aggregator */
  close(now: number, all = false): ClosedWindows {
    const out: ClosedWindows = { tenants: [], clusters: [] };
    const windowSeconds = this.windowMs / 1_000;
    for (const [start, tenants] of this.#open) {
      if (!all && start + this.windowMs > now) continue;
      const windowStart = new Date(start);
      for (const [tenantId, t] of tenants) {
        out.tenants.push({
          tenantId,
          windowStart,
          windowSeconds,
          requests: String(t.requests),
          errors: String(t.errors),
          throttled: String(t.throttled),
          queued: String(t.queued),
          queueWaitMs: t.queueWaitMs,
          busyMs: t.busyMs,
          unitCapacity: t.unitCapacity,
          latencyHistogram: t.histogram.encode(),
        });
        t.histogram.reset();
        if (this.#pool.length < 256) this.#pool.push(t.histogram);
      }
      out.clusters.push({ windowStart, windowSeconds, capacitySlots: String(this.#capacitySlots()), busyMs: this.#busy.get(start) ?? 0 });
      this.#open.delete(start);
      this.#busy.delete(start);
    }
    return out;
  }

  /** Opens the window containing `now` even without traffic, so an idle proxy still reports its capacity */
  touch(now: number): void {
    const start = now - (now % this.windowMs);
    if (!this.#open.has(start)) {
      this.#open.set(start, new Map());
      this.#busy.set(start, 0);
    }
  }
}
