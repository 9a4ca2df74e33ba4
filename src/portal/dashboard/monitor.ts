/**
 * Performance and alerts from MonitorService: latency p50/p99, throughput and error rate over the chosen
 * window (GetTenantMetrics with a series), alerts open and recently cleared (ListAlerts), and performance
 * recommendations drawn from the same figures (throttling; running at the top of the scale range), each with
 * the numbers behind it.
 */
import { MonitorServiceClient, type MetricsPoint } from "../../gen/tenantmesh/v1/monitor.js";
import type { PerformancePoint, Recommendation } from "../../gen/tenantmesh/v1/portal.js";
import { callUnary } from "../rpc-client.js";
import { metric, type DashboardSource, type DashboardWindow } from "./source.js";

/** Span and step of each window: about 50–60 points per chart */
export const windowSpans: Record<DashboardWindow, { seconds: number; step: number }> = {
  hour: { seconds: 3_600, step: 60 },
  day: { seconds: 86_400, step: 1_800 },
  week: { seconds: 604_800, step: 10_800 },
};

/** Throttled share of requests above which a higher rate limit is worth recommending */
const THROTTLE_RECOMMEND = 0.01;
/** Utilization at the maximum scale above which the plan's capacity is the limit */
const SCALE_RECOMMEND = 0.8;

const point = (p: MetricsPoint): PerformancePoint => ({
  at: p.start,
  p50Ms: p.p50Ms,
  p99Ms: p.p99Ms,
  throughputRps: p.throughputRps,
  errorRate: p.errorRate,
  requests: p.requests,
});

const pct = (n: number): string => `${(Math.round(n * 1000) / 10).toString()}%`;

export const monitorSource: DashboardSource = {
  service: "MonitorService",
  sections: ["performance", "alerts"],
  views: ["full", "summary"],
  async fill(ctx, out) {
    const client = ctx.client(MonitorServiceClient);
    const span = windowSpans[ctx.window];
    const full = ctx.view === "full";
    const [metrics, alerts, scaling] = await Promise.all([
      callUnary(client, client.getTenantMetrics, { tenantId: ctx.tenant.id, windowSeconds: span.seconds, stepSeconds: full ? span.step : 0 }, ctx.metadata),
      callUnary(client, client.listAlerts, { tenantId: ctx.tenant.id, includeCleared: full, pageSize: 20, pageToken: "" }, ctx.metadata),
      full ? callUnary(client, client.getScalingState, { tenantId: ctx.tenant.id }, ctx.metadata) : Promise.resolve(undefined),
    ]);
    out.performance = {
      window: ctx.window,
      points: metrics.series.filter((p) => Number(p.requests) > 0).map(point),
      maxResponseTimeMs: ctx.tenant.performanceQuota?.maxResponseTimeMs ?? 0,
    };
    const total = metrics.total;
    if (total !== undefined) {
      for (const [k, v] of Object.entries({ p50_ms: total.p50Ms, p99_ms: total.p99Ms, throughput_rps: total.throughputRps, error_rate: total.errorRate, throttle_rate: total.throttleRate, requests: Number(total.requests) })) {
        metric(out, "performanceMetrics", k, v);
      }
    }
    out.alerts = alerts.alerts.map((a) => ({ id: a.id, kind: a.kind, severity: a.severity, message: a.message, raisedAt: a.raisedAt, clearedAt: a.clearedAt }));

    const recs: Recommendation[] = [];
    if (total !== undefined && total.throttleRate >= THROTTLE_RECOMMEND) {
      recs.push({
        category: "performance",
        title: "Raise the rate limit",
        reason: `${pct(total.throttleRate)} of the last ${ctx.window}'s ${total.requests} requests were refused by the rate limit of ${ctx.tenant.apiRateLimit} requests/min.`,
        action: "Request a higher plan in Settings, or spread the traffic.",
      });
    }
    if (scaling !== undefined && scaling.currentScale >= scaling.maxScale && scaling.utilization >= SCALE_RECOMMEND) {
      recs.push({
        category: "performance",
        title: "At the plan's maximum scale",
        reason: `The tenant runs on ${scaling.currentScale} of at most ${scaling.maxScale} backend units at ${pct(scaling.utilization)} utilization; it cannot scale further on the ${ctx.tenant.planType} plan.`,
        action: "Request a higher plan in Settings for a larger scale range.",
      });
    }
    out.recommendations.push(...recs);
  },
};
