import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../src/auth/clock.js";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { MonitorServiceClient } from "../src/gen/tenantmesh/v1/monitor.js";
import type { ProvisionTenantResponse } from "../src/gen/tenantmesh/v1/tenant.js";
import { silentLogger } from "../src/log/index.js";
import { monitorClient, report, rpc, scriptedWindow } from "../src/monitor/testing.js";
import { ScalingManager } from "../src/scaling/index.js";
import { bearer, provision, tenantClient } from "../src/tenants/testing.js";
import { TenantAffinityBalancer } from "../proxy/balancer/tenant-affinity.js";
import { createRouteTable } from "../proxy/config/routes.js";
import { WatchDirectory } from "../proxy/directory/index.js";
import { ProxyMetrics } from "../proxy/metrics.js";
import { createProxy, type Proxy } from "../proxy/proxy.js";
import { UpstreamCluster } from "../proxy/upstream/cluster.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { startHttpBackend, type HttpBackend } from "./support/proxy-backends.js";

/**
 * Scaling acts for real: the scaler's scale-up of a tenant, through the built-in proxy-share executor, reaches
 * a proxy over WatchTenants within 1 s, and the tenant's requests then spread over a wider tenant_affinity
 * subset — exactly the backends the balancer ranks first for it. The decision is a stored scaling event.
 */
let tcp: TestControlPlane;
let monitor: MonitorServiceClient;
let tenant: ProvisionTenantResponse;
let directory: WatchDirectory;
let proxy: Proxy;
let url: string;
let backends: HttpBackend[];
let cluster: UpstreamCluster;
let metrics: ProxyMetrics;
let dataDir: string;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  monitor = monitorClient(tcp.address);
  const tenants = tenantClient(tcp.address);
  tenant = await provision(tenants, tcp.adminToken, { planType: "professional" });
  tenants.close();
  expect(tenant.tenant?.scale).toEqual({ current: 2, min: 2, max: 4 });

  const identitySecret = randomBytes(32);
  backends = await Promise.all([0, 1, 2, 3].map((i) => startHttpBackend(identitySecret, `b${i}`)));
  cluster = new UpstreamCluster({
    name: "kyb",
    strategy: "tenant_affinity",
    protocol: "http",
    backends: backends.map((b, i) => ({ id: `b${i}`, address: b.address, capacity: 10 })),
  });
  const routes = createRouteTable([{ name: "all", match: { httpPathPrefix: "/" }, cluster: "kyb" }], [cluster]);
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-scale-"));
  directory = new WatchDirectory({
    address: tcp.address,
    serviceToken: issueServiceToken(tcp.cp.secrets, "proxy", ["tenants:watch"]),
    dataDir,
    clock: systemClock,
    logger: silentLogger,
  }).start();
  await directory.whenSynced();
  metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  proxy = createProxy({
    directory,
    sessionVerifier: { verify: () => Promise.resolve(null) },
    routes: () => routes,
    metrics,
    identitySecret,
    apiKeyPepper: Buffer.from(tcp.cp.secrets.apiKeyPepper),
  });
  url = `http://127.0.0.1:${(await proxy.listen("127.0.0.1", 0)).port}`;
});
afterAll(async () => {
  await proxy?.close();
  metrics?.close();
  await directory?.close();
  await Promise.all((backends ?? []).map((b) => b.close()));
  monitor?.close();
  await tcp?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Holds `n` concurrent requests of the tenant open and answers which backends they landed on */
async function spread(n: number): Promise<string[]> {
  const pending = Array.from({ length: n }, () => request(`${url}/hold`, { headers: { authorization: `Bearer ${tenant.apiKey}` } }));
  await expect.poll(() => backends.reduce((sum, b) => sum + b.held(), 0), { interval: 5, timeout: 5_000 }).toBe(n);
  const used = backends.flatMap((b, i) => (b.held() > 0 ? [`b${i}`] : []));
  for (const b of backends) b.releaseHeld();
  for (const res of await Promise.all(pending)) {
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  }
  return used;
}

/** The backends the tenant_affinity balancer ranks first for the tenant at `scale` */
const subsetAt = (scale: number): string[] => new TenantAffinityBalancer(cluster.backends()).subsetFor(tenant.tenant!.id, scale).map((b) => b.id).sort();

describe("a scale-up", () => {
  it("before: the tenant's requests use its subset of 2 backends", async () => {
    expect(directory.tenant(tenant.tenant!.id)?.scale.current).toBe(2);
    expect(await spread(8)).toEqual(subsetAt(2));
  });

  it("reaches the proxy within 1 s and widens the tenant's subset to 3", async () => {
    // A minute of load at 95% of the tenant's allocation: 2 units × 10 slots, busy 19 slots on average
    const tenantId = tenant.tenant!.id;
    const now = Date.now();
    const start = now - (now % 10_000) - 10_000;
    const token = issueServiceToken(tcp.cp.secrets, "proxy", ["metrics:write"]);
    await report(monitor, bearer(token), [
      {
        source: "proxy-1",
        tenants: [scriptedWindow({ tenantId, start, latenciesMs: Array(100).fill(50), busyMs: 0.95 * 20 * 10_000, unitCapacity: 10 })],
        clusters: [{ windowStart: new Date(start), windowSeconds: 10, capacitySlots: "40", busyMs: 0.95 * 20 * 10_000 }],
      },
    ]);
    const manager = new ScalingManager({ db: tcp.cp.db, clock: systemClock, log: silentLogger });
    const evaluations = await manager.evaluate();
    const mine = evaluations.find((e) => e.tenantId === tenantId)!;
    expect(mine.decision).toMatchObject({ action: "up", from: 2, to: 3, target: 3 });
    expect(mine.measured.utilization).toBeCloseTo(0.95, 10);
    const committed = performance.now();
    await expect.poll(() => directory.tenant(tenantId)?.scale.current, { interval: 2, timeout: 1_000 }).toBe(3);
    expect(performance.now() - committed).toBeLessThan(1_000);
    expect(await spread(12)).toEqual(subsetAt(3));
    expect(subsetAt(3)).toEqual(expect.arrayContaining(subsetAt(2)));
  });

  it("is stored as a scaling event with its metrics, and the scaler's state says so", async () => {
    const tenantId = tenant.tenant!.id;
    const events = await rpc(monitor, monitor.listScalingEvents, { tenantId, pageSize: 10, pageToken: "" }, bearer(tenant.apiKey));
    expect(events.events).toHaveLength(1);
    const e = events.events[0]!;
    expect(e).toMatchObject({ direction: "up", fromScale: 2, toScale: 3, targetScale: 3, executors: [{ executor: "proxy-share", ok: true, detail: "scale_current 2 → 3" }] });
    expect(e.utilization).toBeCloseTo(0.95, 10);
    expect(e.metrics).toMatchObject({ requests: 100, unitCapacity: 10, capacity: 20, coveredMs: 10_000 });
    const state = await rpc(monitor, monitor.getScalingState, { tenantId }, bearer(tenant.apiKey));
    expect(state).toMatchObject({ currentScale: 3, minScale: 2, maxScale: 4, targetScale: 3, lastDirection: "up" });
    expect(state.lastScaledAt?.getTime()).toBe(e.createdAt?.getTime());
  });

  it("a second evaluation within the 2-minute cooldown does not scale again, however hot the tenant runs", async () => {
    const tenantId = tenant.tenant!.id;
    const now = Date.now();
    const start = now - (now % 10_000);
    const token = issueServiceToken(tcp.cp.secrets, "proxy", ["metrics:write"]);
    await report(monitor, bearer(token), [
      {
        source: "proxy-1",
        tenants: [scriptedWindow({ tenantId, start, latenciesMs: Array(100).fill(50), busyMs: 2 * 30 * 10_000, unitCapacity: 10 })],
        clusters: [{ windowStart: new Date(start), windowSeconds: 10, capacitySlots: "40", busyMs: 2 * 30 * 10_000 }],
      },
    ]);
    const manager = new ScalingManager({ db: tcp.cp.db, clock: systemClock, log: silentLogger });
    const mine = (await manager.evaluate()).find((e) => e.tenantId === tenantId)!;
    expect(mine.measured.utilization).toBeGreaterThan(0.8);
    expect(mine.decision.action).toBe("none");
    expect(mine.decision.reason).toMatch(/cooling down/);
    expect(directory.tenant(tenant.tenant!.id)?.scale.current).toBe(3);
  });
});
