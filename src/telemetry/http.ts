import type { IncomingMessage, ServerResponse } from "node:http";
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { extractFromHeaders } from "./propagation.js";

/**
 * The server span of one HTTP request: continues the caller's trace (`traceparent`) with its baggage, is named
 * by method and route, and ends when the response does (finished or closed early). `fn` runs in the span's
 * context. A 5xx status marks the span as an error; 4xx are the client's (HTTP semantic conventions).
 */
export function traceHttpRequest<T>(tracer: Tracer, req: IncomingMessage, res: ServerResponse, route: string, fn: (span: Span) => T): T {
  const parent = extractFromHeaders(req.headers);
  const span = tracer.startSpan(
    `${req.method ?? "GET"} ${route}`,
    { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method ?? "GET", "url.path": (req.url ?? "/").split("?", 1)[0] ?? "/", "http.route": route } },
    parent,
  );
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    const code = res.statusCode;
    span.setAttribute("http.response.status_code", code);
    if (code >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, ...(res.writableFinished ? {} : { message: "response not finished" }) });
    span.end();
  };
  res.once("finish", end);
  res.once("close", end);
  const ctx: Context = trace.setSpan(parent, span);
  return context.with(ctx, () => fn(span));
}

