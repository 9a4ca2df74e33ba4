import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import { InMemorySpanExporter, SamplingDecision, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantMeshError } from "../src/errors/index.js";
import { HeadSampler, scopes, shouldKeep, startTracing, TailKeepingProcessor, tracingConfigFromEnv, type Tracing } from "../src/telemetry/index.js";
import type { Throttle } from "../proxy/pipeline/throttle.js";
import { clientTraceparent, FAILING_BUSINESS, startTracedMesh, type TracedMesh } from "./support/traced-mesh.js";

/**
 * Sampling: a head ratio for ordinary requests, with failed and throttled requests kept whatever the ratio
 * (a tail decision in the export processor), and a sampled parent always followed. The monitor sees every
 * request either way.
 */
describe("configuration", () => {
  it("reads the standard OTEL_* variables and tenantmesh's own", () => {
    expect(tracingConfigFromEnv({}, "svc")).toEqual({
      enabled: true,
      serviceName: "svc",
      otlpTracesUrl: undefined,
      otlpProtocol: "http/protobuf",
      sampling: { ratio: 1, keepErrors: true, keepThrottled: true },
    });
    const c = tracingConfigFromEnv(
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/", OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25", TENANTMESH_TRACE_KEEP_THROTTLED: "false", OTEL_SERVICE_NAME: "edge" },
      "svc",
    );
    expect(c).toMatchObject({ serviceName: "edge", otlpTracesUrl: "http://collector:4318/v1/traces", sampling: { ratio: 0.25, keepErrors: true, keepThrottled: false } });
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x:4318/custom" }, "s").otlpTracesUrl).toBe("http://x:4318/custom");
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, "s").otlpProtocol).toBe("http/json");
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }, "s").otlpProtocol).toBe("http/protobuf");
    expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "s")).toThrow(/not supported/);
    expect(tracingConfigFromEnv({ TENANTMESH_TRACING: "off" }, "s").enabled).toBe(false);
    expect(tracingConfigFromEnv({ OTEL_SDK_DISABLED: "true" }, "s").enabled).toBe(false);
    expect(() => tracingConfigFromEnv({ OTEL_TRACES_SAMPLER: "jaeger_remote" }, "s")).toThrow(/not supported/);
    expect(() => tracingConfigFromEnv({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" }, "s")).toThrow(/from 0 to 1/);
  });

  it("tracing off installs nothing", () => {
    expect(startTracing(tracingConfigFromEnv({ TENANTMESH_TRACING: "off" }, "s"))).toBeUndefined();
  });
});

describe("the head sampler", () => {
  const decide = (policy: { ratio: number; keepErrors: boolean; keepThrottled: boolean }, parentSampled?: boolean): SamplingDecision => {
    const parent =
      parentSampled === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, { traceId: "a".repeat(32), spanId: "b".repeat(16), traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
    return new HeadSampler(policy).shouldSample(parent, "c".repeat(32), "x", SpanKind.SERVER, {}, []).decision;
  };
  it("records unsampled spans while a tail rule may still keep them, and drops them when none can", () => {
    expect(decide({ ratio: 0, keepErrors: true, keepThrottled: false })).toBe(SamplingDecision.RECORD);
    expect(decide({ ratio: 0, keepErrors: false, keepThrottled: false })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({ ratio: 1, keepErrors: false, keepThrottled: false })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
  it("follows the parent's decision", () => {
    expect(decide({ ratio: 0, keepErrors: false, keepThrottled: false }, true)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ ratio: 1, keepErrors: true, keepThrottled: true }, false)).toBe(SamplingDecision.RECORD);
  });
  it("keeps by the tail rules only what the policy names", () => {
    const span = (error: boolean, throttled: boolean): ReadableSpan =>
      ({ spanContext: () => ({ traceId: "a".repeat(32), spanId: "b".repeat(16), traceFlags: 0 }), status: { code: error ? SpanStatusCode.ERROR : SpanStatusCode.UNSET }, attributes: { "tenantmesh.throttled": throttled } }) as unknown as ReadableSpan;
    const both = { ratio: 0, keepErrors: true, keepThrottled: true };
    expect([shouldKeep(span(false, false), both), shouldKeep(span(true, false), both), shouldKeep(span(false, true), both)]).toEqual([false, true, true]);
    expect(shouldKeep(span(true, false), { ...both, keepErrors: false })).toBe(false);
    expect(shouldKeep(span(false, true), { ...both, keepThrottled: false })).toBe(false);
    // The kept span reaches the exporter flagged as sampled
    const passed: ReadableSpan[] = [];
    const inner = { onStart: () => {}, onEnd: (s: ReadableSpan) => void passed.push(s), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
    const tail = new TailKeepingProcessor(inner, both);
    tail.onEnd(span(false, false));
    tail.onEnd(span(true, false));
    expect(passed).toHaveLength(1);
    expect(passed[0]?.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(passed[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("through real servers, at ratio 0", () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let mesh: TracedMesh;
  const throttle: Throttle = {
    admit: (tenant, ctx) =>
      ctx.path.startsWith("/v1/businesses/44444444")
        ? { kind: "reject", error: new TenantMeshError("TM_ERR_RATE_LIMITED", `tenant ${tenant.slug} is over its rate`), retryAfterSeconds: 1 }
        : { kind: "allow", release: () => undefined },
  };
  const get = async (path: string, headers: Record<string, string> = {}): Promise<number> => {
    const res = await request(`${mesh.url}${path}`, { headers: { authorization: `Bearer ${mesh.token}`, ...headers } });
    await res.body.dump();
    return res.statusCode;
  };
  const settle = async (): Promise<ReadableSpan[]> => {
    await new Promise((r) => setTimeout(r, 100));
    await tracing.forceFlush();
    return exporter.getFinishedSpans();
  };

  beforeAll(async () => {
    tracing = startTracing(tracingConfigFromEnv({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }, "sampling-test"), { exporters: [exporter] })!;
    mesh = await startTracedMesh(tracing, { throttle });
  });
  afterAll(async () => {
    await mesh?.close();
    await tracing?.shutdown();
  });

  it("exports nothing for successful requests", async () => {
    for (let i = 0; i < 5; i++) expect(await get("/v1/businesses/11111111-1111-4111-8111-111111111111")).toBe(200);
    expect(await settle()).toEqual([]);
  });

  it("exports failed requests (the failing spans)", async () => {
    expect(await get(`/v1/businesses/${FAILING_BUSINESS}`)).toBe(500);
    const spans = await settle();
    expect(spans.map((s) => `${s.instrumentationScope.name}:${SpanKind[s.kind]}`).sort()).toEqual([`${scopes.kyb}:SERVER`, `${scopes.proxy}:SERVER`]);
    expect(spans.every((s) => s.status.code === SpanStatusCode.ERROR && s.attributes["tenant.id"] === mesh.tenant.id)).toBe(true);
    exporter.reset();
  });

  it("exports throttled requests", async () => {
    expect(await get("/v1/businesses/44444444-4444-4444-8444-444444444444")).toBe(429);
    const spans = await settle();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes).toMatchObject({ "tenantmesh.throttled": true, "tenantmesh.error_code": "TM_ERR_RATE_LIMITED", "tenant.id": mesh.tenant.id });
    expect(spans[0]?.status.code).not.toBe(SpanStatusCode.ERROR);
    exporter.reset();
  });

  it("follows a client's sampled trace through every hop", async () => {
    const { traceparent, traceId } = clientTraceparent(true);
    expect(await get("/v1/businesses/55555555-5555-4555-8555-555555555555", { traceparent })).toBe(200);
    const spans = await settle();
    expect(spans).toHaveLength(4);
    expect(spans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    exporter.reset();
  });

  it("the monitor still saw every request", () => {
    const closed = mesh.telemetry.aggregator.close(Date.now(), true);
    const mine = closed.tenants.filter((w) => w.tenantId === mesh.tenant.id);
    expect(mine.reduce((n, w) => n + Number(w.requests), 0)).toBe(8);
    expect(mine.reduce((n, w) => n + Number(w.throttled), 0)).toBe(1);
    expect(mine.reduce((n, w) => n + Number(w.errors), 0)).toBe(1);
  });
});
