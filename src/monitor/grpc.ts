/**
 * tenantmesh.v1.MonitorService over the RpcKit chain.
 *
 *   ReportMetrics                                         service scope metrics:write (or operator)
 *   GetTenantMetrics, GetScalingState, ListScalingEvents  metrics:read on the tenant (empty id: the caller's own)
 *   ListAlerts                                            metrics:read on the tenant; operator without a tenant: all
 *   ListTenantMetrics, GetIsolationReport                 operator (they show every tenant)
 */
import type { Clock } from "../auth/clock.js";
import { principalTenant, type Principal } from "../authz/index.js";
import { isUuid, type Database } from "../db/index.js";
import { invalidArgument, notFound } from "../errors/index.js";
import { MonitorServiceService, type MonitorServiceServer, type ReportMetricsRequest, type ReportMetricsResponse } from "../gen/tenantmesh/v1/monitor.js";
import type { Policy, RpcContext, RpcKit } from "../grpc/index.js";
import { createdAtIdCursor, decodePageToken, encodePageToken, type CreatedAtIdCursor } from "../grpc/page-token.js";
import { listScalingEvents, scalerOf } from "../scaling/store.js";
import { listAlerts, toAlertMessage } from "./alert-store.js";
import { ingestReport, isolation, listTenantMetrics, tenantMetrics } from "./service.js";

export { MonitorServiceService };

const MAX_SECONDS = 31 * 24 * 3_600;

/** A page size: 0 means 50; at most 500 */
const pageSizeOf = (n: number): number => (n <= 0 ? 50 : Math.min(n, 500));

/** The keyset position of a page token issued for these filters (none for the first page) */
const positionOf = (token: string, filters: readonly unknown[]): CreatedAtIdCursor | undefined =>
  token === "" ? undefined : decodePageToken(token, createdAtIdCursor, filters);

/** metrics:read on the request's tenant; an empty id means the caller's own (an operator's: none) */
function metricsPolicy<Req extends { tenantId: string }>(): Policy<Req> {
  return {
    kind: "tenant",
    permission: "metrics:read",
    tenant: (req: Req, p: Principal) => {
      if (req.tenantId === "") return principalTenant(p);
      if (!isUuid(req.tenantId)) throw invalidArgument([{ field: "tenant_id", description: "must be a UUID" }]);
      return req.tenantId;
    },
  };
}

function tenantOf(ctx: RpcContext): string {
  if (ctx.tenantId === undefined) throw invalidArgument([{ field: "tenant_id", description: "is required" }]);
  return ctx.tenantId;
}

function seconds(field: string, value: number, fallback: number): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > MAX_SECONDS) throw invalidArgument([{ field, description: `must be 0 (default) to ${MAX_SECONDS}` }]);
  return value;
}

export function monitorServiceImplementation(kit: RpcKit, deps: { db: Database; clock: Clock }): MonitorServiceServer {
  const { db, clock } = deps;
  return {
    reportMetrics: kit.clientStream<ReportMetricsRequest, ReportMetricsResponse>("MonitorService/ReportMetrics", { kind: "scope", scope: "metrics:write" }, async (messages) => {
      const stored: ReportMetricsResponse = { tenantWindows: "0", clusterWindows: "0" };
      // Each message is stored as it arrives: a stream that breaks later loses nothing already sent.
      for await (const m of messages) await ingestReport(db, m, stored);
      return stored;
    }),

    getTenantMetrics: kit.unary("MonitorService/GetTenantMetrics", metricsPolicy(), async (req, ctx) => {
      const tenantId = tenantOf(ctx);
      const window = seconds("window_seconds", req.windowSeconds, 300);
      const step = seconds("step_seconds", req.stepSeconds, 0);
      if (step > 0 && window / step > 1_440) throw invalidArgument([{ field: "step_seconds", description: "gives more than 1,440 points" }]);
      return ctx.inTenant((trx) => tenantMetrics(trx, tenantId, window, step, clock.now()));
    }),

    listTenantMetrics: kit.unary("MonitorService/ListTenantMetrics", { kind: "operator" }, async (req) =>
      listTenantMetrics(db, seconds("window_seconds", req.windowSeconds, 60), clock.now()),
    ),

    getIsolationReport: kit.unary("MonitorService/GetIsolationReport", { kind: "operator" }, async (req) =>
      isolation(db, seconds("window_seconds", req.windowSeconds, 60), seconds("lookback_seconds", req.lookbackSeconds, 3_600), clock.now()),
    ),

    getScalingState: kit.unary("MonitorService/GetScalingState", metricsPolicy(), async (_req, ctx) => {
      const tenantId = tenantOf(ctx);
      const row = await ctx.inTenant((trx) => scalerOf(trx, tenantId));
      if (row === undefined) throw notFound(`tenant ${tenantId}`);
      return {
        tenantId,
        currentScale: row.scale_current,
        minScale: row.scale_min,
        maxScale: row.scale_max,
        targetScale: row.target_scale ?? row.scale_current,
        utilization: Number(row.utilization ?? 0),
        lastScaledAt: row.last_scaled_at ?? undefined,
        lastDirection: row.last_direction ?? "",
        evaluatedAt: row.evaluated_at ?? undefined,
        lastDecision: row.last_decision ?? "",
      };
    }),

    listScalingEvents: kit.unary("MonitorService/ListScalingEvents", metricsPolicy(), async (req, ctx) => {
      const tenantId = tenantOf(ctx);
      const limit = pageSizeOf(req.pageSize);
      const page = await ctx.inTenant((trx) => listScalingEvents(trx, tenantId, limit + 1, positionOf(req.pageToken, [tenantId])));
      const shown = page.slice(0, limit);
      return {
        events: shown.map(({ row }) => ({
          id: row.id,
          tenantId: row.tenant_id,
          direction: row.direction,
          fromScale: row.from_scale,
          toScale: row.to_scale,
          targetScale: row.target_scale,
          utilization: Number(row.utilization),
          reason: row.reason,
          metrics: row.metrics,
          executors: row.executors.map((e) => ({ executor: e.executor, ok: e.ok, detail: e.detail })),
          createdAt: row.created_at,
        })),
        nextPageToken: page.length > limit && shown.length > 0 ? encodePageToken(shown[shown.length - 1]!.cursor, [tenantId]) : "",
      };
    }),

    listAlerts: kit.unary("MonitorService/ListAlerts", metricsPolicy(), async (req, ctx) => {
      const limit = pageSizeOf(req.pageSize);
      const filters = [ctx.tenantId ?? "*", req.includeCleared];
      const query = { tenantId: ctx.tenantId, includeCleared: req.includeCleared, limit: limit + 1, after: positionOf(req.pageToken, filters) };
      // No tenant is only possible for an operator (the policy refuses it to anyone else): every tenant's alerts.
      const page = ctx.tenantId === undefined ? await db.asPlatform((trx) => listAlerts(trx, query)) : await ctx.inTenant((trx) => listAlerts(trx, query));
      const shown = page.slice(0, limit);
      return {
        alerts: shown.map(({ row }) => toAlertMessage(row)),
        nextPageToken: page.length > limit && shown.length > 0 ? encodePageToken(shown[shown.length - 1]!.cursor, filters) : "",
      };
    }),
  };
}
