import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertKybTenant, signedHeaders, signedMetadata, startTestKyb, type TestKyb } from "../src/kyb/testing.js";
import { openTestDatabase, type TestDatabase } from "./support/db.js";

/**
 * The backend's advertised capacity is real: HTTP and gRPC business requests share `capacity` slots, each slot
 * held for at least the artificial service time, and the rest wait in order (visible on /health).
 */

const SERVICE_MS = 50;
let testDb: TestDatabase;
let kyb: TestKyb;
let tenant: string;

const health = async (): Promise<{ in_flight: number; queued: number; capacity: number }> =>
  (await (await fetch(`${kyb.baseUrl}/health`)).json()) as { in_flight: number; queued: number; capacity: number };

const httpList = (signal?: AbortSignal): Promise<number> =>
  fetch(`${kyb.baseUrl}/v1/businesses?page_size=1`, { headers: signedHeaders(kyb.secret, tenant), ...(signal ? { signal } : {}) }).then(async (r) => {
    await r.text();
    return r.status;
  });

const grpcList = (): Promise<unknown> => kyb.rpc.listBusinesses({ pageSize: 1, pageToken: "" }, signedMetadata(kyb.secret, tenant));

beforeAll(async () => {
  testDb = await openTestDatabase();
  kyb = await startTestKyb(testDb.db, { capacity: 2, serviceTimeMs: SERVICE_MS });
  tenant = await insertKybTenant(testDb.db);
  // Warm both paths (connections, first queries) so the timing below measures only the capacity.
  await Promise.all([httpList(), grpcList()]);
});

afterAll(async () => {
  await kyb?.close();
  await testDb?.close();
});

describe("KYB capacity and service time", () => {
  it("with capacity 2 and 50 ms service time, 6 parallel requests (HTTP and gRPC mixed) take ≈ 3 rounds", async () => {
    // Sample the backend's own counters every millisecond: exact snapshots via /health would race the rounds.
    let maxInFlight = 0;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      const { inFlight, queued } = kyb.handle.stats();
      maxInFlight = Math.max(maxInFlight, inFlight);
      maxQueued = Math.max(maxQueued, queued);
    }, 1);
    const started = performance.now();
    const finished: number[] = [];
    const track = (p: Promise<unknown>) => p.then(() => finished.push(performance.now() - started));
    const all = Promise.all([httpList(), grpcList(), httpList(), grpcList(), httpList(), grpcList()].map(track));
    const during = await health();
    await all;
    const elapsed = performance.now() - started;
    clearInterval(sampler);

    expect(during.capacity).toBe(2);
    expect(during.in_flight).toBeLessThanOrEqual(2);
    // Two at a time, never more, and the others waited.
    expect(maxInFlight).toBe(2);
    expect(maxQueued).toBeGreaterThanOrEqual(1);
    // Six requests through two slots of ≥ 50 ms each cannot finish in under three rounds...
    expect(elapsed).toBeGreaterThanOrEqual(3 * SERVICE_MS - 5);
    // ...and with two really in parallel they need nowhere near six (slack for a loaded machine).
    expect(elapsed).toBeLessThan(6 * SERVICE_MS + 200);
    // Rounds: before the second round can end only two are done, before the third only four.
    expect(finished.filter((t) => t < 2 * SERVICE_MS - 5).length).toBeLessThanOrEqual(2);
    expect(finished.filter((t) => t < 3 * SERVICE_MS - 5).length).toBeLessThanOrEqual(4);
    expect(await health()).toMatchObject({ in_flight: 0, queued: 0 });
  });

});

describe("KYB capacity: the queue", () => {
  // A long service time keeps slots busy long enough to look at the queue on a loaded machine.
  let slow: TestKyb;
  const slowHealth = async (): Promise<{ in_flight: number; queued: number }> =>
    (await (await fetch(`${slow.baseUrl}/health`)).json()) as { in_flight: number; queued: number };
  const slowList = (signal?: AbortSignal): Promise<number> =>
    fetch(`${slow.baseUrl}/v1/businesses?page_size=1`, { headers: signedHeaders(slow.secret, tenant), ...(signal ? { signal } : {}) }).then(async (r) => {
      await r.text();
      return r.status;
    });

  beforeAll(async () => {
    slow = await startTestKyb(testDb.db, { capacity: 2, serviceTimeMs: 1_000 });
  });
  afterAll(async () => slow?.close());

  it("a client that gives up while queued leaves the queue", async () => {
    const controller = new AbortController();
    const running = [slowList(), slowList()];
    await expect.poll(slowHealth, { interval: 10, timeout: 900 }).toMatchObject({ in_flight: 2 });
    const queued = slowList(controller.signal).catch((err: unknown) => (err as Error).name);
    await expect.poll(slowHealth, { interval: 10, timeout: 900 }).toMatchObject({ queued: 1 });
    controller.abort();
    expect(await queued).toBe("AbortError");
    await expect.poll(slowHealth, { interval: 10, timeout: 900 }).toMatchObject({ queued: 0 });
    expect(await Promise.all(running)).toEqual([200, 200]);
  });

  it("refused identities and invalid requests never take a slot", async () => {
    const blockers = [slowList(), slowList()];
    await expect.poll(slowHealth, { interval: 10, timeout: 900 }).toMatchObject({ in_flight: 2 });
    const started = performance.now();
    const unauth = await fetch(`${slow.baseUrl}/v1/businesses`);
    const invalid = await fetch(`${slow.baseUrl}/v1/businesses/not-a-uuid`, { headers: signedHeaders(slow.secret, tenant) });
    expect([unauth.status, invalid.status]).toEqual([401, 400]);
    // Answered while both slots are still busy, without waiting for one.
    expect(performance.now() - started).toBeLessThan(500);
    expect(await slowHealth()).toMatchObject({ in_flight: 2, queued: 0 });
    await Promise.all(blockers);
  });
});
