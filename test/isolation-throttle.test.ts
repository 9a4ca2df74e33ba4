import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../src/auth/clock.js";
import { createIsolation, type Isolation } from "../proxy/limits/index.js";
import { LocalThrottle } from "../proxy/limits/local-throttle.js";
import { ProxyMetrics } from "../proxy/metrics.js";
import { startProxyHarness, type HarnessOptions, type ProxyHarness } from "./support/proxy-harness.js";

/**
 * The isolation layer over real sockets: the proxy harness (real backends, real listener) with the throttle
 * and fair queues that `tenantmesh proxy` uses by default.
 */
let h: ProxyHarness | undefined;
let isolation: Isolation | undefined;

async function start(options: HarnessOptions & { queueMaxWaitMs?: number } = {}): Promise<{ h: ProxyHarness; isolation: Isolation; metrics: ProxyMetrics }> {
  const metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  isolation = createIsolation({ clock: systemClock, metrics, queueMaxLength: 1_000, queueMaxWaitMs: options.queueMaxWaitMs ?? 2_000 });
  h = await startProxyHarness({ ...options, extra: { metrics, throttle: isolation.throttle, createQueue: isolation.createQueue, hooks: [isolation.hook] } });
  return { h, isolation, metrics };
}

afterEach(async () => {
  await h?.close();
  await isolation?.close();
  h = undefined;
  isolation = undefined;
});

/** Quotas that leave only the queue to shape a tenant's traffic */
const unthrottled = {
  apiRateLimit: 0,
  burst: 0,
  performanceQuota: { maxResponseTimeMs: 5_000, maxThroughputRps: 0, maxConcurrentReqs: 1_000, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 },
};

const get = (url: string, token: string, signal?: AbortSignal) => fetch(url, { headers: { authorization: `Bearer ${token}` }, ...(signal ? { signal } : {}) });

describe("per-tenant limits over real sockets", () => {
  it("answers a flooding tenant 429 with Retry-After and RateLimit headers while another tenant's requests all succeed", async () => {
    const { h } = await start({ acme: { apiRateLimit: 60, burst: 5 } });
    const flood = Promise.all(Array.from({ length: 60 }, () => get(`${h.url}/v1/flood`, h.acme.token)));
    // 15 at once: under umbrella's own concurrency limit of 20
    const other = Promise.all(Array.from({ length: 15 }, () => get(`${h.url}/v1/other`, h.umbrella.token)));
    const [floodRes, otherRes] = await Promise.all([flood, other]);
    const codes = floodRes.map((r) => r.status);
    expect(codes.filter((c) => c === 200)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(55);
    expect(otherRes.map((r) => r.status)).toEqual(Array(15).fill(200));
    const refused = floodRes.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("ratelimit-policy")).toBe('"minute";q=60;w=60, "second";q=100;w=1');
    expect(refused.headers.get("ratelimit")).toMatch(/^"minute";r=0;t=\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("TM_ERR_RATE_LIMITED");
  });

  it("answers gRPC RESOURCE_EXHAUSTED with a grpc-retry-pushback-ms hint", async () => {
    const { h } = await start({ acme: { apiRateLimit: 60, burst: 1 } });
    const client = h.echoClient();
    const call = () =>
      new Promise<{ err: ServiceError | null; trailers: Metadata | undefined }>((resolve) => {
        client.unary({ message: "x", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "" }, h.auth(h.acme.token), (err) => resolve({ err, trailers: err?.metadata }));
      });
    expect((await call()).err).toBeNull();
    const refused = await call();
    expect(refused.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    const pushback = Number(refused.trailers?.get("grpc-retry-pushback-ms")[0]);
    // 60 per minute is a token a second: the next one is under a second away
    expect(pushback).toBeGreaterThan(500);
    expect(pushback).toBeLessThanOrEqual(1_000);
    expect(refused.trailers?.get("ratelimit-policy")[0]).toContain('"minute";q=60;w=60');
  });

  it("caps concurrent requests and frees the slot when the client goes away", async () => {
    const { h } = await start({ acme: { performanceQuota: { maxResponseTimeMs: 5_000, maxThroughputRps: 0, maxConcurrentReqs: 2, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 } } });
    const limiter = isolation!.throttle as LocalThrottle;
    const controllers = [new AbortController(), new AbortController()];
    const held = controllers.map((c) => get(`${h.url}/hold`, h.acme.token, c.signal).catch(() => undefined));
    await expect.poll(() => h.http.reduce((n, b) => n + b.held(), 0)).toBe(2);
    const third = await get(`${h.url}/v1/third`, h.acme.token);
    expect(third.status).toBe(429);
    await third.arrayBuffer();
    for (const c of controllers) c.abort();
    await Promise.all(held);
    await expect.poll(() => limiter.inFlight("acme")).toBe(0);
    expect((await get(`${h.url}/v1/after`, h.acme.token)).status).toBe(200);
  });

  it("fair-queues a full cluster: a tenant arriving during another's flood waits for a slot, not for the flood", async () => {
    const { h, metrics } = await start({ capacity: 2, acme: unthrottled });
    const t0 = performance.now();
    // 4 slots; acme's queue holds 4 × 4 waiters, so 20 requests all get through, 100 ms each
    const flood = Promise.all(Array.from({ length: 20 }, () => get(`${h.url}/slow?ms=100`, h.acme.token).then((r) => r.status)));
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    const mine = await Promise.all(Array.from({ length: 2 }, () => get(`${h.url}/slow?ms=100`, h.umbrella.token).then((r) => r.status)));
    const waited = performance.now() - started;
    expect(mine).toEqual([200, 200]);
    expect(await flood).toEqual(Array(20).fill(200));
    const floodTook = performance.now() - t0;
    // 20 × 100 ms over 4 slots is 500 ms of backlog (FIFO would make umbrella wait ~400 ms of it); with fair
    // queuing umbrella waits for the next free slot (≤ 100 ms), then 100 ms of service
    expect(floodTook).toBeGreaterThan(450);
    expect(waited).toBeLessThan(320);
    const text = await metrics.text();
    expect(text).toMatch(/tenantmesh_proxy_queue_wait_seconds_count\{cluster="http",tenant="acme",outcome="dispatched"\} \d+/);
    expect(text).toContain("tenantmesh_proxy_queue_depth");
    expect(text).toMatch(/tenantmesh_proxy_backend_time_share\{tenant="acme"\} 0\.\d+/);
    expect(text).toContain('tenantmesh_proxy_quota_enforcement{quota="cpu_quota_millicores",mode="tracked"} 1');
  });

  it("bounds one tenant's queue: beyond it the tenant gets 429 at once", async () => {
    const { h } = await start({ capacity: 1, httpBackends: 1, acme: unthrottled });
    // one backend of capacity 1: the tenant queue holds 4 × 1 waiters
    const res = await Promise.all(Array.from({ length: 12 }, () => get(`${h.url}/slow?ms=100`, h.acme.token)));
    const codes = res.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 200).length).toBe(5);
    expect(codes.filter((c) => c === 429).length).toBe(7);
    expect(res.find((r) => r.status === 429)?.headers.get("retry-after")).toBe("1");
  });
});
