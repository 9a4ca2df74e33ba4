import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { serializeTraceRequest } from "./otlp-proto.js";

/** Ended spans of two resources and three scopes, with every kind of content the OTLP encoding has */
function spans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const providers = [
    new BasicTracerProvider({ resource: resourceFromAttributes({ "service.name": "proxy", "host.cores": 2 }), spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    new BasicTracerProvider({ resource: resourceFromAttributes({ "service.name": "kyb" }), spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  ];
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("vendor=abc,other=1"),
  });
  const attrs: Attributes = {
    "tenant.id": "6f1c1f1e-0d6b-4f55-9f55-3d2d6c9a1111",
    "tenant.plan": "enterprise",
    "tenant.priority": 9,
    "tenantmesh.throttled_ms": 0.125,
    "tenantmesh.throttled": true,
    negative: -3,
    big: 2 ** 40,
    huge: 2 ** 70,
    unicode: "Zürich — 東京 🚀",
    long: "x".repeat(300),
    list: ["a", "b"],
    numbers: [1, 2.5, -7],
    empty: "",
  };
  for (const [i, provider] of providers.entries()) {
    for (const scope of ["tenantmesh.proxy", "tenantmesh.kyb"]) {
      const tracer = provider.getTracer(scope, i === 0 ? "1.2.3" : undefined);
      for (let n = 0; n < 3; n++) {
        const span = tracer.startSpan(`GET /v1/${n}`, { kind: n === 0 ? SpanKind.SERVER : SpanKind.INTERNAL, attributes: { ...attrs, n } }, n === 1 ? remote : ROOT_CONTEXT);
        span.addEvent("retry", { attempt: n, reason: "connect_failure" });
        if (n === 2) span.addLink({ context: { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 0 }, attributes: { why: "batch" } });
        if (n === 1) span.setStatus({ code: SpanStatusCode.ERROR, message: "TM_ERR_UPSTREAM_TIMEOUT" });
        span.end();
      }
    }
  }
  return exporter.getFinishedSpans();
}

describe("the OTLP protobuf trace serializer", () => {
  it("writes the same bytes as the SDK's ProtobufTraceSerializer", () => {
    const batch = spans();
    expect(batch.length).toBe(12);
    const ours = Buffer.from(serializeTraceRequest(batch));
    expect(ours.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!))).toBe(true);
    // Again, now from its caches of encoded strings and attributes
    expect(Buffer.from(serializeTraceRequest(batch)).equals(ours)).toBe(true);
  });

  it("stays exact when high-cardinality values overflow its caches", () => {
    const batch = spans();
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer("t");
    for (let i = 0; i < 10_000; i++) tracer.startSpan(`span ${i}`, { attributes: { "url.path": `/v1/businesses/${i}` } }).end();
    const many = [...batch, ...exporter.getFinishedSpans()];
    expect(Buffer.from(serializeTraceRequest(many)).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(many)!))).toBe(true);
  });

  it("hands out a buffer of its own: the next batch does not overwrite one still being sent", () => {
    const first = serializeTraceRequest(spans());
    const copy = Buffer.from(first);
    serializeTraceRequest(spans().slice(0, 1));
    expect(Buffer.from(first).equals(copy)).toBe(true);
  });
});
