import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { MonitorServiceClient } from "../src/gen/tenantmesh/v1/monitor.js";
import { silentLogger } from "../src/log/index.js";
import { rollupWindows } from "../src/monitor/index.js";
import { exactPercentile, monitorClient, report, rpc, scriptedWindow } from "../src/monitor/testing.js";
import { HISTOGRAM_PRECISION, LatencyHistogram } from "../src/telemetry/index.js";
import { bearer, provision, tenantClient } from "../src/tenants/testing.js";
import { MetricsReporter, WindowAggregator, type RequestSummary } from "../proxy/telemetry/index.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * The monitor end to end: a scripted load with known latencies goes through the proxy's window aggregator
 * and reporter into ReportMetrics, is stored in tenant_performance_metrics, and GetTenantMetrics answers
 * percentiles within the histogram's precision of the exact ones; windows merge exactly across proxies and
 * when downsampled.
 */
const WINDOW_MS = 10_000;
const start = Math.floor(Date.now() / 60_000) * 60_000;
const clock = new ManualClock(start);
let tcp: TestControlPlane;
let client: MonitorServiceClient;
let tenantId: string;
let serviceToken: string;

/** Deterministic latencies: a long-tailed mix (mostly 5–60 ms, some 100–900 ms, a few seconds) */
function scriptedLatencies(n: number, seed: number): number[] {
  let x = seed;
  const next = (): number => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
  return Array.from({ length: n }, () => {
    const u = next();
    const base = u < 0.9 ? 5 + next() * 55 : u < 0.99 ? 100 + next() * 800 : 1_000 + next() * 3_000;
    return Math.round(base * 1_000) / 1_000;
  });
}

const summary = (tenant: string, endedAt: number, durationMs: number, extra: Partial<RequestSummary> = {}): RequestSummary => ({
  tenantId: tenant,
  traceId: "",
  spanId: "",
  requestId: "r",
  method: "GET",
  path: "/v1/x",
  protocol: "http",
  endedAt,
  durationMs,
  status: 200,
  outcome: "success",
  errorCode: "",
  failed: false,
  throttled: false,
  queuedMs: 0,
  throttledMs: 0,
  busyMs: durationMs,
  backend: "b1",
  backendCapacity: 16,
  ...extra,
});

const withinPrecision = (actual: number, exact: number): void => {
  expect(Math.abs(actual - exact), `${actual} vs exact ${exact}`).toBeLessThanOrEqual(exact * HISTOGRAM_PRECISION + 0.001);
};

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  client = monitorClient(tcp.address);
  const tenants = tenantClient(tcp.address);
  tenantId = (await provision(tenants, tcp.adminToken)).tenant!.id;
  tenants.close();
  serviceToken = issueServiceToken(tcp.cp.secrets, "proxy-test", ["metrics:write"], { clock });
});
afterAll(async () => {
  client.close();
  await tcp?.close();
});

describe("a scripted load through the proxy's aggregator and reporter", () => {
  const latencies = scriptedLatencies(3_000, 42);
  let reporter: MetricsReporter;

  beforeAll(async () => {
    const aggregator = new WindowAggregator({ windowMs: WINDOW_MS, capacitySlots: () => 64 });
    reporter = new MetricsReporter({ address: tcp.address, serviceToken, aggregator, clock, logger: silentLogger, source: "proxy-a" });
    // 3,000 requests spread over three windows; every 50th a server error, every 100th throttled
    latencies.forEach((ms, i) => {
      const endedAt = start + Math.floor((i / latencies.length) * 3 * WINDOW_MS);
      aggregator.observe(summary(tenantId, endedAt, ms, { failed: i % 50 === 0, throttled: i % 100 === 1, queuedMs: i % 10 === 0 ? 2 : 0 }));
    });
    clock.set(start + 3 * WINDOW_MS + 1);
    await reporter.flush();
    expect(reporter.pending).toBe(0);
    expect(reporter.sent).toBe(3);
  });
  afterAll(async () => reporter?.close());

  it("GetTenantMetrics answers p50/p95/p99 within histogram precision of the exact percentiles", async () => {
    clock.set(start + 60_000);
    const m = await rpc(client, client.getTenantMetrics, { tenantId, windowSeconds: 60, stepSeconds: 0 }, bearer(tcp.adminToken));
    const total = m.total!;
    expect(total.requests).toBe("3000");
    withinPrecision(total.p50Ms, exactPercentile(latencies, 50));
    withinPrecision(total.p95Ms, exactPercentile(latencies, 95));
    withinPrecision(total.p99Ms, exactPercentile(latencies, 99));
    expect(total.errors).toBe("60");
    expect(total.errorRate).toBeCloseTo(0.02, 10);
    expect(total.throttled).toBe("30");
    expect(total.throttleRate).toBeCloseTo(0.01, 10);
    expect(total.queued).toBe("300");
    expect(total.queueWaitMs).toBeCloseTo(2, 10);
    expect(total.throughputRps).toBeCloseTo(3_000 / 60, 10);
  });

  it("a series splits the same windows into steps", async () => {
    const m = await rpc(client, client.getTenantMetrics, { tenantId, windowSeconds: 60, stepSeconds: 10 }, bearer(tcp.adminToken));
    expect(m.series).toHaveLength(6);
    expect(m.series.slice(0, 3).map((p) => Number(p.requests))).toEqual([1_000, 1_000, 1_000]);
    expect(m.series.slice(3).every((p) => p.requests === "0")).toBe(true);
    const secondWindow = latencies.slice(1_000, 2_000);
    withinPrecision(m.series[1]!.p99Ms, exactPercentile(secondWindow, 99));
  });

  it("stores each window once, with its serialized histogram, even when sent twice", async () => {
    const again = scriptedWindow({ tenantId, start, latenciesMs: [1, 2, 3] });
    const res = await report(client, bearer(serviceToken), [{ source: "proxy-a", tenants: [again], clusters: [] }]);
    expect(res.tenantWindows).toBe("0");
    const rows = await tcp.cp.db.asPlatform((trx) => trx("tenant_performance_metrics").where({ tenant_id: tenantId, metric_type: "window" }).orderBy("measurement_period"));
    expect(rows).toHaveLength(3);
    const first = rows[0] as Record<string, unknown>;
    expect(first).toMatchObject({ window_seconds: 10, source: "proxy-a", requests: 1_000 });
    expect(LatencyHistogram.decode(String(first.latency_histogram)).count).toBe(1_000);
    withinPrecision(Number(first.p99_ms), exactPercentile(latencies.slice(0, 1_000), 99));
    expect(Number(first.metric_value)).toBeCloseTo(Number(first.p99_ms), 3);
  });
});

describe("merging", () => {
  const base = start + 10 * 60_000;
  const a = scriptedLatencies(800, 7).map((ms) => ms * 3);
  const b = scriptedLatencies(1_200, 11);

  it("two proxies' windows of one tenant merge exactly (percentiles of the union)", async () => {
    await report(client, bearer(serviceToken), [{ source: "proxy-a", tenants: [scriptedWindow({ tenantId, start: base, latenciesMs: a })], clusters: [] }]);
    await report(client, bearer(serviceToken), [{ source: "proxy-b", tenants: [scriptedWindow({ tenantId, start: base, latenciesMs: b })], clusters: [] }]);
    clock.set(base + 30_000);
    const m = await rpc(client, client.getTenantMetrics, { tenantId, windowSeconds: 30, stepSeconds: 0 }, bearer(tcp.adminToken));
    const union = [...a, ...b];
    expect(m.total?.requests).toBe("2000");
    for (const p of [50, 95, 99] as const) withinPrecision(m.total![`p${p}Ms`], exactPercentile(union, p));
  });

  it("downsampling to 1-minute windows replaces the rows and changes no percentile", async () => {
    clock.set(start + 20 * 60_000);
    const before = await rpc(client, client.getTenantMetrics, { tenantId, windowSeconds: 20 * 60, stepSeconds: 0 }, bearer(tcp.adminToken));
    const replaced = await rollupWindows(tcp.cp.db, start + 20 * 60_000, { minutelyAfterMs: 0 });
    expect(replaced).toBe(5);
    const rows = await tcp.cp.db.asPlatform((trx) => trx("tenant_performance_metrics").where({ tenant_id: tenantId, metric_type: "window" }).select("window_seconds", "requests", "source"));
    expect(rows.every((r) => r.window_seconds === 60)).toBe(true);
    expect(rows.map((r) => `${r.source}:${r.requests}`).sort()).toEqual(["proxy-a:3000", "proxy-a:800", "proxy-b:1200"]);
    const after = await rpc(client, client.getTenantMetrics, { tenantId, windowSeconds: 20 * 60, stepSeconds: 0 }, bearer(tcp.adminToken));
    expect(after.total).toEqual(before.total);
  });
});

describe("ReportMetrics validation", () => {
  it("refuses a malformed window whole, naming the field", async () => {
    const good = scriptedWindow({ tenantId, start: start + 40 * 60_000, latenciesMs: [5] });
    const err = await report(client, bearer(serviceToken), [
      { source: "proxy-a", tenants: [good, { ...good, latencyHistogram: "not-a-histogram" }, { ...good, requests: "7" }], clusters: [] },
    ]).catch((e: unknown) => e as { code: number; metadata: { get(k: string): unknown[] } });
    expect((err as { code: number }).code).toBe(status.INVALID_ARGUMENT);
    const violations = JSON.parse(String((err as { metadata: { get(k: string): unknown[] } }).metadata.get("tm-violations")[0])) as Array<{ field: string }>;
    expect(violations.map((v) => v.field)).toEqual(["tenants[1].latency_histogram", "tenants[2].latency_histogram"]);
    const stored = await tcp.cp.db.asPlatform((trx) => trx("tenant_performance_metrics").where({ tenant_id: tenantId }).where("measurement_period", ">=", new Date(start + 40 * 60_000)));
    expect(stored).toEqual([]);
  });

  it("skips windows of tenants that do not exist (deleted since the proxy saw them)", async () => {
    const res = await report(client, bearer(serviceToken), [
      { source: "proxy-a", tenants: [scriptedWindow({ tenantId: "00000000-0000-4000-8000-000000000000", start, latenciesMs: [1] })], clusters: [] },
    ]);
    expect(res).toEqual({ tenantWindows: "0", clusterWindows: "0" });
  });
});
