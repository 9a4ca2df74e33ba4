import { InterceptingCall, status as grpcStatus, type Interceptor, type Metadata } from "@grpc/grpc-js";
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { TENANT_ID, TENANT_PLAN, TENANT_PRIORITY } from "./attributes.js";
import { extractFromMetadata, injectIntoMetadata } from "./propagation.js";

/** gRPC statuses that make a server span an error (OpenTelemetry's RPC conventions): server-side faults only */
const serverFaults: ReadonlySet<number> = new Set([
  grpcStatus.UNKNOWN,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.UNIMPLEMENTED,
  grpcStatus.INTERNAL,
  grpcStatus.UNAVAILABLE,
  grpcStatus.DATA_LOSS,
]);

/** `/pkg.Service/Method` or `pkg.Service/Method` → its service and method parts */
function splitMethod(path: string): { service: string; method: string } {
  const trimmed = path.startsWith("/") ? path.slice(1) : path;
  const slash = trimmed.lastIndexOf("/");
  return slash < 0 ? { service: "", method: trimmed } : { service: trimmed.slice(0, slash), method: trimmed.slice(slash + 1) };
}

/**
 * The server span of one RPC: started from the caller's `traceparent` and baggage, ended exactly once with
 * the call's status. `run` executes code inside the span's context, so spans the handler starts and calls it
 * makes (through `tracingClientInterceptor`) join the same trace.
 */
export class RpcSpan {
  readonly span: Span;
  readonly context: Context;
  #ended = false;

  constructor(tracer: Tracer, fullMethod: string, metadata: Metadata) {
    const parent = extractFromMetadata(metadata);
    const { service, method } = splitMethod(fullMethod);
    this.span = tracer.startSpan(
      `${service}/${method}`,
      { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method } },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
  }

  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /** Tags the tenant the call acts for (the authorized one wins over what baggage said) */
  setTenant(tenantId: string | undefined, plan?: string, priority?: number): void {
    if (tenantId !== undefined && tenantId !== "") this.span.setAttribute(TENANT_ID, tenantId);
    if (plan !== undefined && plan !== "") this.span.setAttribute(TENANT_PLAN, plan);
    if (priority !== undefined) this.span.setAttribute(TENANT_PRIORITY, priority);
  }

  end(code: number, message?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.span.setAttribute("rpc.grpc.status_code", code);
    if (serverFaults.has(code)) this.span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
    this.span.end();
  }
}

/**
 * A grpc-js client interceptor: a CLIENT span per call, child of the active context, with `traceparent`,
 * `tracestate` and `baggage` written into the outgoing metadata, so the server's span continues this trace.
 * Add it to a client's `interceptors` option.
 */
export function tracingClientInterceptor(tracer: Tracer): Interceptor {
  return (options, nextCall) => {
    const { service, method } = splitMethod(options.method_definition.path);
    const parent = context.active();
    const span = tracer.startSpan(
      `${service}/${method}`,
      { kind: SpanKind.CLIENT, attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method } },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    return new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        injectIntoMetadata(spanContext, metadata);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            span.setAttribute("rpc.grpc.status_code", status.code);
            if (status.code !== grpcStatus.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: status.details });
            span.end();
            nextStatus(status);
          },
        });
      },
    });
  };
}
