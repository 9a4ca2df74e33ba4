import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { startAdminServer, type AdminServer } from "./admin.js";
import { createRouteTable } from "./config/routes.js";
import { StaticDirectory, tenantEntryFromConfig } from "./directory/static.js";
import { tenantConfig } from "./directory/testing.js";
import { ProxyMetrics } from "./metrics.js";
import { UpstreamCluster } from "./upstream/cluster.js";

const TOKEN = "tmop_operator-token-for-tests-0123456789";
let admin: AdminServer;
let metrics: ProxyMetrics;
let directory: StaticDirectory;
let cluster: UpstreamCluster;
let clock: ManualClock;
let listenerBound: boolean | string;

const get = (path: string, token?: string): Promise<Response> =>
  fetch(`http://127.0.0.1:${admin.port}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

beforeEach(async () => {
  clock = new ManualClock(1_000_000);
  directory = new StaticDirectory({ clock, state: { source: "empty", synced: false } });
  cluster = new UpstreamCluster({
    name: "kyb-http",
    strategy: "round_robin",
    protocol: "http",
    backends: [
      { id: "a", address: "127.0.0.1:7001", capacity: 4 },
      { id: "b", address: "127.0.0.1:7002", capacity: 4 },
    ],
  });
  const routes = createRouteTable([{ name: "r", match: { httpPathPrefix: "/" }, cluster: "kyb-http" }], [cluster]);
  metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  listenerBound = true;
  admin = await startAdminServer({ port: 0, directory, routes: () => routes, metrics, operatorToken: TOKEN, clock, isReady: () => listenerBound });
});

afterEach(async () => {
  await admin.close();
  metrics.close();
});

function load(): void {
  const m = tenantEntryFromConfig(tenantConfig("t1", { networkRestrictions: ["10.0.0.0/8"] }, ["k1"]))!;
  directory.upsert(m.entry, m.keys);
  directory.setState({ source: "last-known-good", synced: false });
}

describe("admin server", () => {
  it("binds to loopback by default and answers /health always", async () => {
    expect(admin.host).toBe("127.0.0.1");
    const res = await get("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("/ready waits for the directory, a usable backend and the caller's own condition", async () => {
    let res = await get("/ready");
    expect(res.status).toBe(503);
    expect((await res.json()).reasons).toEqual([expect.stringMatching(/tenant directory has not loaded/)]);

    load();
    clock.advance(30_000);
    res = await get("/ready");
    expect(res.status).toBe(200);
    expect((await res.json()).directory).toMatchObject({ source: "last-known-good", synced: false, stalenessSeconds: 30 });

    const [a, b] = cluster.backends();
    a!.health = "unhealthy";
    b!.ejectedUntil = clock.now() + 1_000;
    listenerBound = "the data listener is not bound";
    res = await get("/ready");
    expect(res.status).toBe(503);
    expect((await res.json()).reasons).toEqual([expect.stringMatching(/no cluster has a healthy/), "the data listener is not bound"]);
  });

  it("/metrics shows request metrics, directory staleness and source, and backend state", async () => {
    load();
    clock.advance(5_000);
    metrics.recordRequest({ tenantId: "t1", cluster: "kyb-http", backend: "a", protocol: "http", outcome: "ok", code: "200", durationMs: 2 });
    const [a] = cluster.backends();
    a!.acquire("t1");
    for (let i = 0; i < 5; i++) cluster.recordOutcome(a!, "http_5xx", clock.now());
    const res = await get("/metrics");
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toContain('tenantmesh_proxy_requests_total{tenant="t1"');
    expect(text).toContain("tenantmesh_proxy_directory_staleness_seconds 5");
    expect(text).toContain('tenantmesh_proxy_directory_source{source="last-known-good"} 1');
    expect(text).toContain('tenantmesh_proxy_backend_health{cluster="kyb-http",backend="a",state="healthy"} 1');
    expect(text).toContain('tenantmesh_proxy_backend_in_flight_requests{cluster="kyb-http",backend="a"} 1');
    expect(text).toContain('tenantmesh_proxy_backend_ejected{cluster="kyb-http",backend="a"} 1');
    expect(text).toContain('tenantmesh_proxy_backend_ejections_total{cluster="kyb-http",backend="a"} 1');
  });

  it("/admin/* need the operator token", async () => {
    for (const path of ["/admin/backends", "/admin/tenants"]) {
      expect((await get(path)).status).toBe(401);
      const wrong = await get(path, `${TOKEN}x`);
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await get(path, TOKEN)).status).toBe(200);
    }
  });

  it("/admin/backends lists each cluster's backends with health, load and ejection", async () => {
    const body = await (await get("/admin/backends", TOKEN)).json();
    expect(body.clusters[0]).toMatchObject({ name: "kyb-http", strategy: "round-robin", protocol: "http" });
    expect(body.clusters[0].backends[0]).toMatchObject({ id: "a", address: "127.0.0.1:7001", health: "healthy", inFlight: 0, ejected: false, ejections: 0 });
  });

  it("/admin/tenants lists tenants and their keys without ever showing a key hash", async () => {
    load();
    const res = await get("/admin/tenants", TOKEN);
    const text = await res.text();
    expect(text).not.toContain("hash-k1");
    expect(text).not.toMatch(/secretHash/i);
    const body = JSON.parse(text);
    expect(body.tenants[0]).toMatchObject({ id: "t1", status: "active", networkRestrictions: ["10.0.0.0/8"], apiKeys: [{ keyId: "k1", role: "admin" }] });
    expect((await (await get("/admin/tenants?id=nope", TOKEN)).json()).tenants).toEqual([]);
  });

  it("answers 404 and 405 for what it does not serve", async () => {
    expect((await get("/nope")).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${admin.port}/health`, { method: "POST" })).status).toBe(405);
  });
});
