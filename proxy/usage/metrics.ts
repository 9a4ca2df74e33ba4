import { Counter, Gauge, type Registry } from "prom-client";
import { HotCounter, type CounterSeries } from "../hot-metrics.js";
import type { ProxyResource } from "./counter.js";

/**
 * The usage meter's series in the proxy's /metrics. Labelled by resource type only (never by tenant), so they
 * stay a handful of series at any scale. `tenantmesh_proxy_usage_spool_overflow` is the alert: 1 while the
 * spool is dropping usage, with the amounts lost in `tenantmesh_proxy_usage_dropped_total`.
 */
export class UsageMetrics {
  /** Counted on every request: a hot-path counter (plain numbers, formatted at scrape time) */
  readonly counted: HotCounter;
  /** Its series per resource type, looked up once */
  readonly countedBy: Readonly<Record<ProxyResource, CounterSeries>>;
  readonly batches: Counter<"result">;
  readonly dropped: Counter<"resource">;
  readonly droppedBatches: Counter<string>;
  readonly spoolBatches: Gauge<string>;
  readonly spoolBytes: Gauge<string>;
  readonly overflow: Gauge<string>;
  readonly lastFlush: Gauge<string>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.counted = new HotCounter(
      "tenantmesh_proxy_usage_counted_total",
      "Usage counted by the proxy (api_calls and compute are billed; rejected_calls and throttled_calls, the proxy's own 401/403 and 429, are not)",
      ["resource"],
      registry,
    );
    this.countedBy = {
      api_calls: this.counted.labels(["api_calls"]),
      compute: this.counted.labels(["compute"]),
      rejected_calls: this.counted.labels(["rejected_calls"]),
      throttled_calls: this.counted.labels(["throttled_calls"]),
    };
    this.batches = new Counter({
      name: "tenantmesh_proxy_usage_batches_total",
      help: "RecordUsage batches sent, by result (applied, duplicate, failed)",
      labelNames: ["result"],
      registers,
    });
    this.dropped = new Counter({
      name: "tenantmesh_proxy_usage_dropped_total",
      help: "Usage dropped because the spool was full (a long control-plane outage): lost for billing",
      labelNames: ["resource"],
      registers,
    });
    this.droppedBatches = new Counter({ name: "tenantmesh_proxy_usage_dropped_batches_total", help: "Spooled usage batches dropped on overflow", registers });
    this.spoolBatches = new Gauge({ name: "tenantmesh_proxy_usage_spool_batches", help: "Usage batches waiting for the control plane", registers });
    this.spoolBytes = new Gauge({ name: "tenantmesh_proxy_usage_spool_bytes", help: "Size of the usage spool file", registers });
    this.overflow = new Gauge({ name: "tenantmesh_proxy_usage_spool_overflow", help: "1 while the usage spool is full and dropping usage (alert)", registers });
    this.lastFlush = new Gauge({ name: "tenantmesh_proxy_usage_last_acknowledged_seconds", help: "Unix time the control plane last acknowledged a usage batch", registers });
    for (const resource of ["api_calls", "compute", "rejected_calls", "throttled_calls"]) {
      this.dropped.labels(resource).inc(0);
    }
    for (const result of ["applied", "duplicate", "failed"]) this.batches.labels(result).inc(0);
  }
}
