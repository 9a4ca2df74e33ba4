import { INVALID_TRACEID, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, type Context, type Tracer } from "@opentelemetry/api";
import type { TenantMeshError } from "../../src/errors/index.js";
import { extractFromHeaders } from "../../src/telemetry/propagation.js";
import type { ProxyContext } from "../context.js";
import type { Handler, Stage, StageResult } from "../pipeline/stage.js";
import { attachMonitorFacts, failedOf, requestAttributes } from "./summary.js";

const hex2 = (n: number): string => (n < 16 ? `0${n.toString(16)}` : n.toString(16));

/** The client's trace context, without its baggage: only the proxy names tenants to the hops behind it */
function parentOf(ctx: ProxyContext): Context {
  const traceparent = ctx.headers.traceparent;
  if (traceparent === undefined) return ROOT_CONTEXT;
  const tracestate = ctx.headers.tracestate;
  return extractFromHeaders(tracestate === undefined ? { traceparent } : { traceparent, tracestate });
}

/**
 * Trace: one SERVER span per request, listed right after record so it covers identification, throttling,
 * queueing and the upstream exchange. It continues the client's trace (`traceparent`) and replaces the
 * header with its own span, which the forwarders pass upstream, so the backend's spans are children of the
 * proxy's. The baggage the backends get (`tenant.id`, `tenant.plan`, `tenant.priority`) is set by the
 * forwarders from the identified tenant. At the end the span takes the tenant, backend, strategy, outcome,
 * throttled and queued times (proxy/telemetry/summary.ts) and is an error when the request failed on the
 * server side; the monitor's own inputs (busy time, unit capacity) travel beside it, not as attributes.
 */
export function traceStage(tracer: Tracer): Stage {
  return (next: Handler): Handler =>
    async (ctx): Promise<StageResult> => {
      const parent = parentOf(ctx);
      const span = tracer.startSpan(
        ctx.protocol === "grpc" ? ctx.path.slice(1) : `${ctx.method} proxy`,
        { kind: SpanKind.SERVER, attributes: { "http.request.method": ctx.method, "url.path": pathOnly(ctx.path) } },
        parent,
      );
      const sc = span.spanContext();
      // Unsampled spans propagate too, so the hops behind follow the same sampling decision. The SDK's ids are
      // valid by construction: only a suppressed span has the invalid context (cheaper than re-validating ids).
      if (sc.traceId !== INVALID_TRACEID) ctx.headers.traceparent = `00-${sc.traceId}-${sc.spanId}-${hex2(sc.traceFlags & TraceFlags.SAMPLED)}`;
      let error: TenantMeshError | undefined;
      try {
        error = await next(ctx);
        return error;
      } finally {
        // The record stage (outside this one) sets the end time after we return; the span needs it now.
        ctx.timings.end = performance.now();
        if (ctx.route !== undefined && ctx.protocol === "http") span.updateName(`${ctx.method} ${ctx.route.name}`);
        span.setAttributes(requestAttributes(ctx, error));
        attachMonitorFacts(span, ctx);
        if (failedOf(ctx, error)) span.setStatus({ code: SpanStatusCode.ERROR, message: error?.code ?? `status ${ctx.status}` });
        span.end();
      }
    };
}

function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}
