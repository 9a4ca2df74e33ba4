import { status as grpcStatus } from "@grpc/grpc-js";
import type { Attributes } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { TenantMeshError } from "../../src/errors/index.js";
import {
  PROXY_BACKEND,
  PROXY_ERROR_CODE,
  PROXY_OUTCOME,
  PROXY_QUEUED_MS,
  PROXY_ROUTE,
  PROXY_STRATEGY,
  PROXY_THROTTLED,
  PROXY_THROTTLED_MS,
  TENANT_ID,
  TENANT_PLAN,
  TENANT_PRIORITY,
} from "../../src/telemetry/attributes.js";
import type { ProxyContext } from "../context.js";

/**
 * One finished proxy request as the monitor and the trace ring see it. Built from the request span's
 * attributes when tracing is on (the span processor path), or straight from the context when it is off.
 */
export interface RequestSummary {
  readonly tenantId: string | undefined;
  readonly traceId: string;
  readonly spanId: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly protocol: string;
  readonly endedAt: number;
  readonly durationMs: number;
  /** HTTP status or gRPC status number sent to the client (0 when none was) */
  readonly status: number;
  readonly outcome: string;
  readonly errorCode: string;
  /** A server-side failure: 5xx, a gRPC server fault, or a proxy failure that maps to one */
  readonly failed: boolean;
  readonly throttled: boolean;
  readonly queuedMs: number;
  readonly throttledMs: number;
  readonly busyMs: number;
  readonly backend: string;
  readonly backendCapacity: number;
}

const grpcServerFaults: ReadonlySet<number> = new Set([grpcStatus.UNKNOWN, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.INTERNAL, grpcStatus.UNAVAILABLE, grpcStatus.DATA_LOSS]);

/** Whether the request failed on the server side (the error rate's numerator); client refusals are not */
export function failedOf(ctx: ProxyContext, error: TenantMeshError | undefined): boolean {
  if (ctx.outcome === "cancelled") return false;
  if (error !== undefined) return error.httpStatus >= 500;
  return ctx.protocol === "grpc" ? grpcServerFaults.has(ctx.status) : ctx.status >= 500;
}

/** The status sent (or about to be sent) to the client; a refusal's comes from its error */
export const statusOf = (ctx: ProxyContext, error: TenantMeshError | undefined): number =>
  ctx.status !== 0 || error === undefined ? ctx.status : ctx.protocol === "grpc" ? error.grpcStatus : error.httpStatus;

/**
 * What the monitor needs of a request span beyond what an SRE reads in a trace. It travels beside the span
 * (keyed by the span object, which the SDK hands to processors as is) instead of as attributes, because every
 * attribute is serialized on every exported span, and OTLP serialization is most of tracing's cost.
 */
export interface MonitorFacts {
  readonly requestId: string;
  readonly busyMs: number;
  readonly backendCapacity: number;
}

const facts = new WeakMap<object, MonitorFacts>();

export const attachMonitorFacts = (span: object, ctx: ProxyContext): void => {
  facts.set(span, { requestId: ctx.requestId, busyMs: busyMsOf(ctx), backendCapacity: ctx.backend?.capacity ?? 0 });
};

const busyMsOf = (ctx: ProxyContext): number => {
  const t = ctx.timings;
  return t.picked > 0 && t.end >= t.picked ? t.end - t.picked : 0;
};

/**
 * The span attributes of a finished request: what an SRE reads. `tenantmesh.throttled` appears only when
 * true, the cluster is implied by the route, the protocol by the status attribute's name.
 */
export function requestAttributes(ctx: ProxyContext, error: TenantMeshError | undefined): Attributes {
  const t = ctx.timings;
  const attrs: Attributes = {
    [PROXY_OUTCOME]: ctx.outcome,
    [PROXY_THROTTLED_MS]: t.throttledMs,
    [PROXY_QUEUED_MS]: t.queuedMs,
    [ctx.protocol === "grpc" ? "rpc.grpc.status_code" : "http.response.status_code"]: statusOf(ctx, error),
  };
  const tenant = ctx.tenant;
  if (tenant !== undefined) {
    attrs[TENANT_ID] = tenant.id;
    attrs[TENANT_PLAN] = tenant.planType;
    attrs[TENANT_PRIORITY] = tenant.priority;
  }
  if (error !== undefined) {
    attrs[PROXY_ERROR_CODE] = error.code;
    if (error.code === "TM_ERR_RATE_LIMITED") attrs[PROXY_THROTTLED] = true;
  }
  if (ctx.route !== undefined) {
    attrs[PROXY_ROUTE] = ctx.route.name;
    attrs[PROXY_STRATEGY] = ctx.route.cluster.strategy;
  }
  if (ctx.backend !== undefined) attrs[PROXY_BACKEND] = ctx.backend.id;
  return attrs;
}

const str = (a: Attributes, k: string): string => {
  const v = a[k];
  return typeof v === "string" ? v : "";
};
const num = (a: Attributes, k: string): number => {
  const v = a[k];
  return typeof v === "number" ? v : 0;
};

/** The summary of a proxy request span (see the trace stage for what it sets) */
export function summaryFromSpan(span: ReadableSpan, failed: boolean): RequestSummary {
  const a = span.attributes;
  const sc = span.spanContext();
  const [sec, ns] = span.duration;
  const [endSec, endNs] = span.endTime;
  const extra = facts.get(span);
  return {
    tenantId: str(a, TENANT_ID) || undefined,
    traceId: sc.traceId,
    spanId: sc.spanId,
    requestId: extra?.requestId ?? "",
    method: str(a, "http.request.method"),
    path: str(a, "url.path"),
    protocol: a["rpc.grpc.status_code"] === undefined ? "http" : "grpc",
    endedAt: endSec * 1_000 + endNs / 1e6,
    durationMs: sec * 1_000 + ns / 1e6,
    status: num(a, "http.response.status_code") || num(a, "rpc.grpc.status_code"),
    outcome: str(a, PROXY_OUTCOME),
    errorCode: str(a, PROXY_ERROR_CODE),
    failed,
    throttled: a[PROXY_THROTTLED] === true,
    queuedMs: num(a, PROXY_QUEUED_MS),
    throttledMs: num(a, PROXY_THROTTLED_MS),
    busyMs: extra?.busyMs ?? 0,
    backend: str(a, PROXY_BACKEND),
    backendCapacity: extra?.backendCapacity ?? 0,
  };
}

/** The summary of a request straight from its context (tracing off) */
export function summaryFromContext(ctx: ProxyContext, error: TenantMeshError | undefined, now: number): RequestSummary {
  const t = ctx.timings;
  return {
    tenantId: ctx.tenant?.id,
    traceId: "",
    spanId: "",
    requestId: ctx.requestId,
    method: ctx.method,
    path: ctx.path,
    protocol: ctx.protocol,
    endedAt: now,
    durationMs: t.end - t.start,
    status: statusOf(ctx, error),
    outcome: ctx.outcome,
    errorCode: error?.code ?? "",
    failed: failedOf(ctx, error),
    throttled: error?.code === "TM_ERR_RATE_LIMITED",
    queuedMs: t.queuedMs,
    throttledMs: t.throttledMs,
    busyMs: busyMsOf(ctx),
    backend: ctx.backend?.id ?? "",
    backendCapacity: ctx.backend?.capacity ?? 0,
  };
}
