import { status as grpcStatus } from "@grpc/grpc-js";
import type { TenantMeshError } from "../../src/errors/index.js";
import type { Logger } from "../../src/log/index.js";
import type { ProxyContext } from "../context.js";
import type { RequestRecord } from "../metrics.js";
import type { Handler, Stage, StageResult } from "./stage.js";

/** The part of ProxyMetrics the record stage feeds */
export interface RequestMetrics {
  recordRequest(record: RequestRecord): void;
  recordRejection(tenantId: string | undefined, reason: string): void;
}

/**
 * Observes every finished request: usage counting and tracing plug in here (later issues). It runs after the
 * metrics are recorded, with the request's final context and the failure that ended it, if any. A hook must be
 * quick and must not throw; one that throws is logged and the request is unaffected.
 */
export type RequestHook = (ctx: ProxyContext, error: TenantMeshError | undefined) => void;

/** gRPC statuses that say the call failed on the server side (the rest are answers: NOT_FOUND is an answer) */
const grpcServerFaults: ReadonlySet<number> = new Set([grpcStatus.UNKNOWN, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.INTERNAL, grpcStatus.UNAVAILABLE, grpcStatus.DATA_LOSS]);

/** Cached label strings, so the hot path does not stringify a status per request */
const httpCodes = new Map<number, string>();
const httpCode = (n: number): string => {
  let s = httpCodes.get(n);
  if (s === undefined) {
    s = String(n);
    if (httpCodes.size < 1_000) httpCodes.set(n, s);
  }
  return s;
};
const grpcCode = (n: number): string => grpcStatus[n] ?? String(n);

/**
 * Record: listed first so it wraps the whole pipeline and sees every outcome. A request refused before it
 * reached a backend is a rejection, counted by reason (`unauthenticated`, `tenant_inactive`, `rate_limited`, …);
 * one that was forwarded is a request, with its cluster, backend, status code and duration.
 */
export function record(metrics: RequestMetrics, hooks: readonly RequestHook[], logger: Logger): Stage {
  let hookFailureLogged = false;
  return (next: Handler): Handler =>
    async (ctx): Promise<StageResult> => {
      let error: StageResult;
      try {
        error = await next(ctx);
        return error;
      } finally {
        ctx.timings.end = performance.now();
        finish(ctx, error);
        for (const hook of hooks) {
          try {
            hook(ctx, error);
          } catch (err) {
            if (!hookFailureLogged) logger.error({ err }, "a request hook threw; further hook failures are not logged");
            hookFailureLogged = true;
          }
        }
      }
    };

  function finish(ctx: ProxyContext, error: StageResult): void {
    const tenantId = ctx.tenant?.id;
    const backend = ctx.backend;
    const route = ctx.route;
    if (backend === undefined || route === undefined) {
      const reason = ctx.outcome === "cancelled" ? "cancelled" : error !== undefined ? reasonOf(error) : "internal";
      if (ctx.outcome !== "cancelled") ctx.outcome = "rejected";
      metrics.recordRejection(tenantId, reason);
      return;
    }
    const grpc = ctx.protocol === "grpc";
    if (error !== undefined && ctx.status === 0) ctx.status = grpc ? error.grpcStatus : error.httpStatus;
    const failed = error !== undefined || (grpc ? grpcServerFaults.has(ctx.status) : ctx.status >= 500);
    metrics.recordRequest({
      tenantId,
      cluster: route.cluster.name,
      backend: backend.id,
      protocol: route.cluster.protocol,
      outcome: failed ? "error" : "ok",
      // 499 is nginx's "client closed request": no status was sent, and the label must say why
      code: ctx.outcome === "cancelled" ? (grpc ? "CANCELLED" : "499") : grpc ? grpcCode(ctx.status) : httpCode(ctx.status),
      durationMs: ctx.timings.end - ctx.timings.start,
    });
  }
}

/** `TM_ERR_TENANT_INACTIVE` → `tenant_inactive`: the catalogue code is the reason, without its prefix */
function reasonOf(error: TenantMeshError): string {
  return error.code.slice(7).toLowerCase();
}
