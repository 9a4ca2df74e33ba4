import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusinessServiceClient } from "../src/gen/tenantmesh/kyb/v1/business.js";
import { credentials } from "@grpc/grpc-js";
import { fetchTraces } from "../src/cli/commands/traces.js";
import { scopes, startTracing, tracingConfigFromEnv, type Tracing } from "../src/telemetry/index.js";
import { clientTraceparent, FAILING_BUSINESS, grpcMetadata, startTracedMesh, type TracedMesh } from "./support/traced-mesh.js";

/**
 * One trace across the whole path: client → proxy → KYB (HTTP and gRPC) → control plane, through real
 * servers, collected by an in-memory exporter. Every span carries the tenant, the proxy's its backend,
 * strategy, outcome and throttled/queued times; W3C traceparent and baggage cross every hop, and a client
 * cannot forge the tenant through baggage.
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let mesh: TracedMesh;

beforeAll(async () => {
  tracing = startTracing(tracingConfigFromEnv({ OTEL_SERVICE_NAME: "tracing-test" }, "tenantmesh"), { exporters: [exporter] })!;
  mesh = await startTracedMesh(tracing);
});
afterAll(async () => {
  await mesh?.close();
  await tracing?.shutdown();
});

async function spansOf(traceId: string, expected: number): Promise<ReadableSpan[]> {
  // Server spans end when their responses do, which may be a moment after the client has its answer.
  for (let i = 0; i < 100; i++) {
    await tracing.forceFlush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    if (spans.length >= expected) return spans;
    await new Promise((r) => setTimeout(r, 20));
  }
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

const byScope = (spans: readonly ReadableSpan[], scope: string, kind: SpanKind): ReadableSpan => {
  const found = spans.filter((s) => s.instrumentationScope.name === scope && s.kind === kind);
  expect(found, `one ${SpanKind[kind]} span of ${scope}`).toHaveLength(1);
  return found[0]!;
};
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

function expectOnePath(spans: readonly ReadableSpan[], clientSpanId: string | undefined): { proxy: ReadableSpan; kyb: ReadableSpan; cp: ReadableSpan } {
  const proxy = byScope(spans, scopes.proxy, SpanKind.SERVER);
  const kyb = byScope(spans, scopes.kyb, SpanKind.SERVER);
  const call = byScope(spans, scopes.kyb, SpanKind.CLIENT);
  const cp = byScope(spans, scopes.controlPlane, SpanKind.SERVER);
  expect(parentOf(proxy)).toBe(clientSpanId);
  expect(parentOf(kyb)).toBe(proxy.spanContext().spanId);
  expect(parentOf(call)).toBe(kyb.spanContext().spanId);
  expect(parentOf(cp)).toBe(call.spanContext().spanId);
  expect(cp.name).toBe("TenantService/GetTenant");
  // Every span of the path carries the tenant, its plan and its priority
  for (const s of spans) {
    expect(s.attributes["tenant.id"], `${s.instrumentationScope.name} ${s.name}`).toBe(mesh.tenant.id);
    expect(s.attributes["tenant.plan"], `${s.instrumentationScope.name} ${s.name}`).toBe("professional");
    expect(s.attributes["tenant.priority"], `${s.instrumentationScope.name} ${s.name}`).toBe(mesh.tenant.priorityLevel);
  }
  return { proxy, kyb, cp };
}

describe("one trace from the proxy through KYB to the control plane", () => {
  it("over HTTP: the client's trace continues, every span tagged with the tenant, forged baggage ignored", async () => {
    const { traceparent, traceId } = clientTraceparent();
    const id = "11111111-1111-4111-8111-111111111111";
    const res = await request(`${mesh.url}/v1/businesses/${id}`, {
      headers: { authorization: `Bearer ${mesh.token}`, traceparent, baggage: "tenant.id=00000000-0000-4000-8000-000000000bad,tenant.plan=enterprise,user.tier=gold" },
    });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { tenant_id: string }).tenant_id).toBe(mesh.tenant.id);
    const spans = await spansOf(traceId, 4);
    expect(spans).toHaveLength(4);
    const { proxy, kyb } = expectOnePath(spans, traceparent.slice(36, 52));
    expect(proxy.name).toBe("GET businesses");
    expect(proxy.attributes).toMatchObject({
      "tenantmesh.backend": "kyb-http-1",
      "tenantmesh.strategy": "tenant-affinity",
      "tenantmesh.route": "businesses",
      "tenantmesh.outcome": "success",
      "tenantmesh.queued_ms": 0,
      "http.response.status_code": 200,
    });
    expect(proxy.attributes["tenantmesh.throttled"], "set only on throttled requests").toBeUndefined();
    expect(proxy.attributes["tenantmesh.throttled_ms"]).toBeGreaterThanOrEqual(0);
    expect(kyb.name).toBe("GET /v1/businesses/:id");
    expect(kyb.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("over gRPC: the same path, with the KYB RPC's server span", async () => {
    const { traceparent, traceId } = clientTraceparent();
    const client = new BusinessServiceClient(mesh.proxyAddress, credentials.createInsecure());
    try {
      const id = "22222222-2222-4222-8222-222222222222";
      const res = await new Promise<{ id: string }>((resolve, reject) =>
        client.getBusiness({ id }, grpcMetadata(mesh.token, { traceparent }), (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(res.id).toBe(id);
    } finally {
      client.close();
    }
    const spans = await spansOf(traceId, 4);
    const { proxy, kyb } = expectOnePath(spans, traceparent.slice(36, 52));
    expect(proxy.name).toBe("tenantmesh.kyb.v1.BusinessService/GetBusiness");
    expect(proxy.attributes).toMatchObject({ "tenantmesh.backend": "kyb-grpc-1", "tenantmesh.strategy": "tenant-affinity", "rpc.grpc.status_code": 0 });
    expect(kyb.name).toBe("tenantmesh.kyb.v1.BusinessService/GetBusiness");
  });

  it("a request without a traceparent starts its trace at the proxy", async () => {
    const before = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId));
    const res = await request(`${mesh.url}/v1/businesses/33333333-3333-4333-8333-333333333333`, { headers: { authorization: `Bearer ${mesh.token}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    let traceId: string | undefined;
    for (let i = 0; i < 100 && traceId === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      traceId = exporter.getFinishedSpans().find((s) => s.instrumentationScope.name === scopes.proxy && !before.has(s.spanContext().traceId))?.spanContext().traceId;
    }
    const spans = await spansOf(traceId!, 4);
    expectOnePath(spans, undefined);
  });
});

describe("failures", () => {
  let traceId: string;

  beforeAll(async () => {
    const tp = clientTraceparent();
    traceId = tp.traceId;
    const res = await request(`${mesh.url}/v1/businesses/${FAILING_BUSINESS}`, { headers: { authorization: `Bearer ${mesh.token}`, traceparent: tp.traceparent } });
    expect(res.statusCode).toBe(500);
    await res.body.dump();
  });

  it("mark the proxy's and the backend's spans as errors", async () => {
    const spans = await spansOf(traceId, 4);
    const proxy = byScope(spans, scopes.proxy, SpanKind.SERVER);
    const kyb = byScope(spans, scopes.kyb, SpanKind.SERVER);
    expect(proxy.status.code).toBe(SpanStatusCode.ERROR);
    expect(proxy.attributes["http.response.status_code"]).toBe(500);
    expect(kyb.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("land in the proxy's trace ring, served by /admin/traces (what `tenantmesh traces` reads)", async () => {
    const res = await fetchTraces(mesh.adminUrl, mesh.tcp.adminToken, mesh.tenant.slug, 10);
    expect(res.tenant).toBe(mesh.tenant.id);
    const entry = res.traces.find((t) => t.traceId === traceId);
    expect(entry).toMatchObject({ reason: "failed", status: 500, method: "GET", path: `/v1/businesses/${FAILING_BUSINESS}`, backend: "kyb-http-1" });
    // Successful, fast requests are not kept
    expect(res.traces.every((t) => t.reason !== "slow" || t.durationMs >= 1_000)).toBe(true);
    expect(res.traces.filter((t) => t.reason === "failed")).toHaveLength(1);
  });

  it("/admin/traces needs the operator token", async () => {
    const res = await request(`${mesh.adminUrl}/admin/traces?tenant=${mesh.tenant.id}`);
    expect(res.statusCode).toBe(401);
    await res.body.dump();
    await expect(fetchTraces(mesh.adminUrl, "wrong-token", mesh.tenant.id, 10)).rejects.toThrow(/401/);
  });
});

describe("span → monitor", () => {
  it("the proxy's span processor aggregated every request of the tenant into its window", () => {
    const closed = mesh.telemetry.aggregator.close(Date.now(), true);
    const mine = closed.tenants.filter((w) => w.tenantId === mesh.tenant.id);
    const total = mine.reduce((n, w) => n + Number(w.requests), 0);
    expect(total).toBe(4);
    expect(mine.reduce((n, w) => n + Number(w.errors), 0)).toBe(1);
    expect(mine.every((w) => w.unitCapacity === 16 && w.busyMs > 0)).toBe(true);
    expect(closed.clusters.every((c) => c.capacitySlots === "32")).toBe(true);
  });
});
