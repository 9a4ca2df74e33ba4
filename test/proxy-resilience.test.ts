import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { deadAddress, startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";

let h: ProxyHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const quota = (maxResponseTimeMs: number, maxConcurrentReqs = 100) => ({
  performanceQuota: { maxResponseTimeMs, maxThroughputRps: 0, maxConcurrentReqs, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 },
});
const get = (harness: ProxyHarness, path: string, dispatcher?: Agent) =>
  request(`${harness.url}${path}`, { headers: { authorization: `Bearer ${harness.acme.token}` }, ...(dispatcher ? { dispatcher } : {}) });
const inFlightAtBackends = (harness: ProxyHarness): number => harness.httpCluster.backends().reduce((n, b) => n + b.inFlight, 0);

describe("upstream failures", () => {
  it("answers 504 TM_ERR_DEADLINE_EXCEEDED when a backend exceeds the tenant's max response time, and frees the slot", async () => {
    h = await startProxyHarness({ acme: quota(300) });
    const started = Date.now();
    const res = await get(h, "/slow?ms=3000");
    expect(res.statusCode).toBe(504);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe("TM_ERR_DEADLINE_EXCEEDED");
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(inFlightAtBackends(h)).toBe(0);
  });

  it("aborts the upstream request when the client goes away, and frees the backend slot", async () => {
    h = await startProxyHarness({ httpBackends: 1 });
    const harness = h;
    const controller = new AbortController();
    const pending = request(`${harness.url}/hold`, { headers: { authorization: `Bearer ${harness.acme.token}` }, signal: controller.signal }).catch(() => undefined);
    await expect.poll(() => harness.http[0]!.held()).toBe(1);
    expect(inFlightAtBackends(harness)).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(() => harness.http[0]!.inFlight()).toBe(0);
    await expect.poll(() => inFlightAtBackends(harness)).toBe(0);
  });

  it("retries a request that failed to connect once on another backend", async () => {
    h = await startProxyHarness({ httpBackends: 1, extraHttpAddresses: [await deadAddress()] });
    for (let i = 0; i < 6; i++) {
      const res = await request(`${h.url}/v1/write`, { method: i % 2 === 0 ? "GET" : "POST", body: i % 2 === 0 ? null : "payload", headers: { authorization: `Bearer ${h.acme.token}` } });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    // Round robin sent half of the first attempts to the dead backend: every one of them was retried
    expect(h.http[0]!.seen.length).toBe(6);
  });

  it("loses no idempotent request when a backend is killed under load", async () => {
    h = await startProxyHarness({ httpBackends: 2, acme: quota(5_000, 100) });
    const harness = h;
    const agent = new Agent({ connections: 32 });
    let failed = 0;
    let ok = 0;
    let stop = false;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const res = await get(harness, "/slow?ms=5", agent).catch(() => undefined);
        if (res === undefined || res.statusCode !== 200) failed++;
        else ok++;
        await res?.body.dump();
      }
    };
    const workers = Array.from({ length: 32 }, worker);
    await new Promise((r) => setTimeout(r, 300));
    await harness.http[1]!.kill();
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    await Promise.all(workers);
    await agent.close();
    expect(failed).toBe(0);
    expect(ok).toBeGreaterThan(100);
    // The killed backend did serve (and had requests in flight) before it died
    expect(harness.http[1]!.seen.length).toBeGreaterThan(10);
  });
});

describe("queueing at a full cluster", () => {
  it("makes requests wait for a slot and proceed when one frees", async () => {
    h = await startProxyHarness({ httpBackends: 1, capacity: 2, limits: { queueMaxWaitMs: 5_000 } });
    const harness = h;
    const agent = new Agent({ connections: 10 });
    const held = [get(harness, "/hold", agent), get(harness, "/hold", agent)];
    await expect.poll(() => harness.http[0]!.held()).toBe(2);
    const queued = get(harness, "/v1/queued", agent);
    await new Promise((r) => setTimeout(r, 100));
    // Still waiting: the backend never got more than its capacity
    expect(harness.http[0]!.seen.filter((s) => s.url === "/v1/queued")).toHaveLength(0);
    harness.http[0]!.releaseHeld();
    const res = await queued;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    for (const p of held) await (await p).body.dump();
    await agent.close();
  });

  it("answers 503 with Retry-After past the queue's max wait", async () => {
    h = await startProxyHarness({ httpBackends: 1, capacity: 1, limits: { queueMaxWaitMs: 200 } });
    const harness = h;
    const agent = new Agent({ connections: 10 });
    const held = get(harness, "/hold", agent);
    await expect.poll(() => harness.http[0]!.held()).toBe(1);
    const res = await get(harness, "/v1/late", agent);
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe("TM_ERR_UNAVAILABLE");
    harness.http[0]!.releaseHeld();
    await (await held).body.dump();
    await agent.close();
  });
});

describe("throttle", () => {
  it("refuses requests over the tenant's max concurrent requests with 429 and Retry-After, and frees slots after", async () => {
    h = await startProxyHarness({ acme: quota(5_000, 2) });
    const harness = h;
    const agent = new Agent({ connections: 10 });
    const held = [get(harness, "/hold", agent), get(harness, "/hold", agent)];
    await expect.poll(() => harness.http[0]!.held() + harness.http[1]!.held()).toBe(2);
    const over = await get(harness, "/v1/over", agent);
    expect(over.statusCode).toBe(429);
    expect(over.headers["retry-after"]).toBe("1");
    expect(((await over.body.json()) as { error: { code: string } }).error.code).toBe("TM_ERR_RATE_LIMITED");
    harness.http[0]!.releaseHeld();
    harness.http[1]!.releaseHeld();
    for (const p of held) await (await p).body.dump();
    const after = await get(harness, "/v1/after", agent);
    expect(after.statusCode).toBe(200);
    await after.body.dump();
    await agent.close();
  });
});
