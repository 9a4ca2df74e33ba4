import type { Clock } from "../../src/auth/clock.js";
import type { Logger } from "../../src/log/index.js";
import { scopes } from "../../src/telemetry/attributes.js";
import { currentTracing, type Tracing } from "../../src/telemetry/setup.js";
import type { TenantDirectory } from "../directory/types.js";
import type { RequestHook } from "../pipeline/record.js";
import type { Stage } from "../pipeline/stage.js";
import type { RouteTable } from "../upstream/types.js";
import { MonitorSpanProcessor } from "./monitor-processor.js";
import { MetricsReporter } from "./reporter.js";
import { summaryFromContext, type RequestSummary } from "./summary.js";
import { TraceRing, type TraceRingOptions } from "./trace-ring.js";
import { traceStage } from "./trace-stage.js";
import { WindowAggregator } from "./window-aggregator.js";

export { MetricsReporter } from "./reporter.js";
export { MonitorSpanProcessor } from "./monitor-processor.js";
export { summaryFromContext, summaryFromSpan, type RequestSummary } from "./summary.js";
export { TraceRing, type TraceEntry, type TraceRingOptions } from "./trace-ring.js";
export { traceStage } from "./trace-stage.js";
export { WindowAggregator, type ClosedWindows } from "./window-aggregator.js";

export interface ProxyTelemetryOptions {
  readonly directory: TenantDirectory;
  readonly routes: () => RouteTable;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The process's tracing SDK; default the one started in this process (none: tracing off) */
  readonly tracing?: Tracing | undefined;
  /** Where to report windows; omitted: windows are aggregated but not sent (tests, static deployments) */
  readonly report?: { readonly address: string; readonly serviceToken: string; readonly source?: string };
  readonly windowMs?: number;
  readonly ring?: TraceRingOptions;
}

/** The proxy's telemetry, to plug into createProxy (`trace`, `hooks`) and the admin server (`adminRoutes`) */
export interface ProxyTelemetry {
  /** The trace stage; undefined when tracing is off (then nothing of the SDK runs per request) */
  readonly trace: Stage | undefined;
  /** Feeds the monitor and the ring from the request context when tracing is off; empty when it is on */
  readonly hooks: RequestHook[];
  readonly aggregator: WindowAggregator;
  readonly ring: TraceRing;
  readonly reporter: MetricsReporter | undefined;
  /** Operator JSON endpoints for the admin server: `/admin/traces?tenant=<id>&limit=<n>` */
  readonly adminRoutes: Readonly<Record<string, (url: URL) => unknown>>;
  close(): Promise<void>;
}

/**
 * Composes the proxy's telemetry: with tracing on, the trace stage makes a span per request and the
 * MonitorSpanProcessor (span → monitor) feeds the window aggregator and the trace ring; with tracing off, a
 * request hook feeds them from the context instead, so the monitor works either way. The reporter ships
 * closed windows to MonitorService.ReportMetrics.
 */
export function createProxyTelemetry(options: ProxyTelemetryOptions): ProxyTelemetry {
  const tracing = options.tracing === undefined && !("tracing" in options) ? currentTracing() : options.tracing;
  const capacitySlots = (): number => options.routes().clusters().reduce((sum, c) => sum + c.backends().reduce((s, b) => s + b.capacity, 0), 0);
  const aggregator = new WindowAggregator({ capacitySlots, ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }) });
  const ring = new TraceRing({
    tenantSlowMs: (id) => {
      const t = options.directory.tenant(id);
      return t === undefined || t.maxResponseTimeMs <= 0 ? undefined : t.maxResponseTimeMs * 0.8;
    },
    ...options.ring,
  });
  const sinks = [(s: RequestSummary): void => aggregator.observe(s), (s: RequestSummary): void => ring.observe(s)];
  let removeProcessor: (() => void) | undefined;
  const hooks: RequestHook[] = [];
  if (tracing !== undefined) removeProcessor = tracing.addProcessor(new MonitorSpanProcessor(sinks));
  else {
    hooks.push((ctx, error) => {
      const summary = summaryFromContext(ctx, error, options.clock.now());
      for (const sink of sinks) sink(summary);
    });
  }
  const reporter = options.report === undefined ? undefined : new MetricsReporter({ ...options.report, aggregator, clock: options.clock, logger: options.logger.child({ component: "metrics-reporter" }) }).start();
  return {
    trace: tracing === undefined ? undefined : traceStage(tracing.tracer(scopes.proxy)),
    hooks,
    aggregator,
    ring,
    reporter,
    adminRoutes: {
      "/admin/traces": (url) => {
        const tenant = url.searchParams.get("tenant") ?? "";
        const limit = Math.min(1_000, Math.max(1, Number(url.searchParams.get("limit") ?? 50) || 50));
        const entry = options.directory.tenant(tenant) ?? [...options.directory.tenants()].find((t) => t.slug === tenant);
        return { tenant: entry?.id ?? tenant, slug: entry?.slug, source: tracing === undefined ? "proxy (tracing off: no trace ids)" : "proxy ring", traces: ring.list(entry?.id ?? tenant, limit) };
      },
    },
    async close() {
      removeProcessor?.();
      await reporter?.close();
    },
  };
}
