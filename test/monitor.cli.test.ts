import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { TenantMetricsRow } from "../src/gen/tenantmesh/v1/monitor.js";
import { renderTop } from "../src/cli/commands/top.js";
import { monitorClient, report, scriptedWindow } from "../src/monitor/testing.js";
import { bearer, provision, tenantClient } from "../src/tenants/testing.js";
import { startAdminServer, type AdminServer } from "../proxy/admin.js";
import { StaticDirectory, tenantEntryFromConfig } from "../proxy/directory/static.js";
import { tenantConfig } from "../proxy/directory/testing.js";
import { ProxyMetrics } from "../proxy/metrics.js";
import { TraceRing } from "../proxy/telemetry/index.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/** `tenantmesh top --once` and `tenantmesh traces <tenant>`, run as the real CLI */
const run = promisify(execFile);
const cli = path.resolve(import.meta.dirname, "../bin/tenantmesh.js");
let tcp: TestControlPlane;
const slugs: string[] = [];

beforeAll(async () => {
  tcp = await startTestControlPlane();
  const tenants = tenantClient(tcp.address);
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const t = (await provision(tenants, tcp.adminToken)).tenant!;
    ids.push(t.id);
    slugs.push(t.slug);
  }
  tenants.close();
  const client = monitorClient(tcp.address);
  const now = Date.now();
  const start = now - (now % 10_000) - 10_000;
  await report(client, bearer(issueServiceToken(tcp.cp.secrets, "proxy", ["metrics:write"])), [
    {
      source: "p",
      tenants: [
        scriptedWindow({ tenantId: ids[0]!, start, latenciesMs: Array(300).fill(20), errors: 30 }),
        scriptedWindow({ tenantId: ids[1]!, start, latenciesMs: Array(100).fill(900), throttled: 5 }),
      ],
      clusters: [],
    },
  ]);
  client.close();
});
afterAll(async () => tcp?.close());

describe("tenantmesh top", () => {
  const row = (slug: string, rps: number, p99: number): TenantMetricsRow => ({
    tenantId: `${slug}-id`,
    slug,
    metrics: { start: undefined, end: undefined, requests: "0", errors: "0", throttled: "0", queued: "0", p50Ms: p99 / 2, p95Ms: p99, p99Ms: p99, throughputRps: rps, errorRate: 0, throttleRate: 0, queueWaitMs: 0, inFlight: 0 },
    scale: 2,
    scaleMin: 1,
    scaleMax: 4,
    openAlerts: 0,
  });

  it("renders one frame, sorted by the chosen column", () => {
    const rows = [row("slow", 1, 900), row("busy", 50, 20)];
    const byRps = renderTop(rows, "rps", 60, new Date(0)).split("\n");
    expect(byRps[2]).toMatch(/^TENANT\s+RPS▼\s+P50 MS\s+P99 MS\s+ERR %\s+THR %\s+QUEUE MS\s+SCALE\s+ALERTS$/);
    expect(byRps[3]).toMatch(/^busy\s+50\.0/);
    const byP99 = renderTop(rows, "p99", 60, new Date(0)).split("\n");
    expect(byP99[3]).toMatch(/^slow\s+1\.0\s+450\.0\s+900\.0/);
    expect(byP99[3]).toContain("2 (1-4)");
  });

  it("--once prints the live table once and exits", async () => {
    const { stdout } = await run(process.execPath, [cli, "top", "--once", "--addr", tcp.address, "--token", tcp.adminToken, "--sort", "p99"], { timeout: 30_000 });
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/2 tenant\(s\) with traffic in the last 60 s .* sort: p99/);
    expect(lines[3]).toContain(slugs[1]);
    expect(lines[3]).toMatch(/\s9\d\d\.\d\s/); // 900 ms within the histogram's 1%
    expect(lines[4]).toContain(slugs[0]);
    expect(lines[4]).toMatch(/\s10\.0\s/);
  }, 60_000);

  it("refuses tenant credentials (operator only)", async () => {
    const err = await run(process.execPath, [cli, "top", "--once", "--addr", tcp.address, "--token", "tm_not_a_real_key"], { timeout: 30_000 }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toMatch(/^tenantmesh: /);
  }, 60_000);
});

describe("tenantmesh traces", () => {
  let admin: AdminServer;
  const metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });

  beforeAll(async () => {
    const directory = new StaticDirectory();
    const mapped = tenantEntryFromConfig(tenantConfig("acme-id", { slug: "acme" }));
    directory.upsert(mapped!.entry, mapped!.keys);
    const ring = new TraceRing();
    const base = { tenantId: "acme-id", spanId: "00f067aa0ba902b7", method: "GET", protocol: "http", queuedMs: 0, throttledMs: 0, busyMs: 1, backend: "b1", backendCapacity: 10, throttled: false };
    ring.observe({ ...base, traceId: "4bf92f3577b34da6a3ce929d0e0e4736", requestId: "r1", path: "/v1/a", endedAt: Date.now(), durationMs: 3, status: 502, outcome: "reset", errorCode: "TM_ERR_BAD_GATEWAY", failed: true });
    ring.observe({ ...base, traceId: "5bf92f3577b34da6a3ce929d0e0e4737", requestId: "r2", path: "/v1/b", endedAt: Date.now(), durationMs: 1_900, status: 200, outcome: "success", errorCode: "", failed: false });
    admin = await startAdminServer({ port: 0, directory, routes: () => ({ matchHttp: () => undefined, matchGrpc: () => undefined, clusters: () => [] }), metrics, operatorToken: "op-token", operatorRoutes: { "/admin/traces": (url) => ({ tenant: "acme-id", slug: "acme", source: "proxy ring", traces: ring.list("acme-id", Number(url.searchParams.get("limit"))) }) } });
  });
  afterAll(async () => {
    await admin?.close();
    metrics.close();
  });

  it("lists the tenant's recent slow and failed requests with their trace ids, newest first", async () => {
    const { stdout } = await run(process.execPath, [cli, "traces", "acme", "--admin", `http://127.0.0.1:${admin.port}`, "--token", "op-token"], { timeout: 30_000 });
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("acme — 2 recent slow/failed request(s) (proxy ring)");
    expect(lines[2]).toMatch(/^ENDEDAT\s+REASON\s+DURATIONMS\s+STATUS/);
    expect(lines[3]).toMatch(/slow\s+1900\s+200\s.*5bf92f3577b34da6a3ce929d0e0e4737$/);
    expect(lines[4]).toMatch(/failed\s+3\s+502\s+TM_ERR_BAD_GATEWAY.*4bf92f3577b34da6a3ce929d0e0e4736$/);
  }, 60_000);
});
