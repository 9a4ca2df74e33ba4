import { trace } from "@opentelemetry/api";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../src/auth/clock.js";
import { silentLogger } from "../src/log/index.js";
import { currentTracing, scopes } from "../src/telemetry/index.js";
import { createProxyTelemetry, type ProxyTelemetry } from "../proxy/telemetry/index.js";
import { startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";
import type { RouteTable } from "../proxy/upstream/types.js";

/**
 * Tracing off: no SDK, no trace stage, the client's traceparent passes through untouched — and the monitor
 * and the trace ring still get every request, from the request hook instead of spans.
 */
let h: ProxyHarness;
let telemetry: ProxyTelemetry;

beforeAll(async () => {
  expect(currentTracing()).toBeUndefined();
  // The harness builds its directory and clusters itself, so the telemetry joins once they exist.
  let hooked: ProxyTelemetry | undefined;
  h = await startProxyHarness({ extra: { hooks: [(ctx, err) => hooked?.hooks.forEach((hook) => hook(ctx, err))] } });
  const routes: RouteTable = { matchHttp: () => undefined, matchGrpc: () => undefined, clusters: () => [h.httpCluster] };
  hooked = createProxyTelemetry({ directory: h.directory, routes: () => routes, clock: systemClock, logger: silentLogger });
  telemetry = hooked;
});
afterAll(async () => {
  await telemetry?.close();
  await h?.close();
});

describe("with tracing off", () => {
  it("the telemetry adds no stage, only a hook", () => {
    expect(telemetry.trace).toBeUndefined();
    expect(telemetry.hooks).toHaveLength(1);
    expect(trace.getTracer(scopes.controlPlane).startSpan("x").isRecording()).toBe(false);
  });

  it("the client's traceparent reaches the backend untouched", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const res = await request(`${h.url}/v1/things`, { headers: { authorization: `Bearer ${h.acme.token}`, traceparent } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = h.http.flatMap((b) => b.seen).at(-1);
    expect(seen?.headers.traceparent).toBe(traceparent);
  });

  it("the monitor and the ring still see every request", async () => {
    const res = await request(`${h.url}/status/503`, { headers: { authorization: `Bearer ${h.acme.token}` } });
    expect(res.statusCode).toBe(503);
    await res.body.dump();
    const ring = telemetry.ring.list("acme");
    expect(ring).toHaveLength(1);
    expect(ring[0]).toMatchObject({ reason: "failed", status: 503, traceId: "", path: "/status/503" });
    const closed = telemetry.aggregator.close(Date.now(), true);
    const acme = closed.tenants.filter((w) => w.tenantId === "acme");
    expect(acme.reduce((n, w) => n + Number(w.requests), 0)).toBe(2);
    expect(acme.reduce((n, w) => n + Number(w.errors), 0)).toBe(1);
    expect(closed.clusters[0]?.capacitySlots).toBe("200");
  });
});
