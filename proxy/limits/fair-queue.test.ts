import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import { queueAllFull, type PickResult } from "../balancer/balancer.js";
import { tenantEntryFromConfig } from "../directory/entry.js";
import { tenantConfig } from "../directory/testing.js";
import type { TenantEntry } from "../directory/types.js";
import type { QueueOutcome } from "../pipeline/dispatch-queue.js";
import { Backend } from "../upstream/backend.js";
import { FairDispatchQueue, type FairQueueOptions, type WaitOutcome } from "./fair-queue.js";
import { RateLimitedError } from "./rate-limited.js";
import { fairWeight } from "./weights.js";

function tenant(id: string, priority = 5, tier = "standard", maxResponseTimeMs = 0): TenantEntry {
  const config = tenantConfig(id, { priorityLevel: priority, performanceTier: tier });
  config.tenant!.performanceQuota!.maxResponseTimeMs = maxResponseTimeMs;
  return tenantEntryFromConfig(config)!.entry;
}

/** A one-backend "cluster" with `slots` free slots: tryAcquire takes one, the test frees them */
function harness(options: Partial<FairQueueOptions> = {}) {
  const clock = new ManualClock(0);
  const backend = new Backend({ id: "b", address: "127.0.0.1:1", capacity: 1_000 });
  let free = 0;
  const served: string[] = [];
  const waits: Array<[string, WaitOutcome]> = [];
  const refusals: string[] = [];
  const queue = new FairDispatchQueue({
    clock,
    maxLength: 1_000,
    maxWaitMs: 1_000,
    observer: { waited: (id, _ms, how) => waits.push([id, how]), refused: (id, reason) => refusals.push(`${id}:${reason}`) },
    ...options,
  });
  const outcomes: Array<Promise<QueueOutcome>> = [];
  const enqueue = (t: TenantEntry) => {
    const ticket = queue.enqueue({
      tenant: t,
      tryAcquire(): PickResult {
        if (free === 0) return queueAllFull;
        free--;
        served.push(t.id);
        return { kind: "pick", backend };
      },
    });
    outcomes.push(ticket.done);
    return ticket;
  };
  const release = (n = 1) => {
    for (let i = 0; i < n; i++) {
      free++;
      queue.onRelease();
    }
  };
  return { clock, queue, enqueue, release, served, waits, refusals, outcomes };
}

const settled = async (p: Promise<QueueOutcome>): Promise<QueueOutcome> => p;

describe("FairDispatchQueue order and weights", () => {
  it("serves one tenant first come, first served", () => {
    const h = harness();
    const a = tenant("a");
    for (let i = 0; i < 3; i++) h.enqueue(a);
    h.release(3);
    expect(h.served).toEqual(["a", "a", "a"]);
    expect(h.queue.depth).toBe(0);
  });

  it("alternates between equal tenants however long one's backlog is", () => {
    const h = harness();
    const [a, b] = [tenant("a"), tenant("b")];
    for (let i = 0; i < 6; i++) h.enqueue(a);
    for (let i = 0; i < 3; i++) h.enqueue(b);
    h.release(9);
    expect(h.served.join("")).toBe("abababaaa");
  });

  it("serves a newly arriving tenant at the next release, ahead of a flooding tenant's backlog", () => {
    const h = harness();
    const [flood, victim] = [tenant("flood", 10, "enterprise"), tenant("victim", 2)];
    for (let i = 0; i < 50; i++) h.enqueue(flood);
    h.release(10);
    h.enqueue(victim);
    h.release(1);
    expect(h.served.at(-1)).toBe("victim");
  });

  it("shares dispatches in proportion to the weights while every tenant waits", () => {
    const h = harness();
    const tenants = [tenant("w1", 1), tenant("w2", 2), tenant("w4", 4), tenant("w8", 4, "premium")];
    expect(tenants.map(fairWeight)).toEqual([1, 2, 4, 8]);
    for (const t of tenants) for (let i = 0; i < 200; i++) h.enqueue(t);
    h.release(300);
    const count = (id: string) => h.served.filter((s) => s === id).length;
    expect(count("w1")).toBe(20);
    expect(count("w2")).toBe(40);
    expect(count("w4")).toBe(80);
    expect(count("w8")).toBe(160);
  });

  it("weights a tenant by priority level × performance tier", () => {
    expect([tenant("f", 2), tenant("b", 4), tenant("p", 7, "premium"), tenant("e", 10, "enterprise")].map(fairWeight)).toEqual([2, 4, 14, 40]);
  });
});

describe("FairDispatchQueue bounds", () => {
  it("refuses a tenant beyond its own queue length with 429 and Retry-After", async () => {
    const h = harness({ tenantMaxLength: 3 });
    const [a, b] = [tenant("a"), tenant("b")];
    for (let i = 0; i < 3; i++) h.enqueue(a);
    const refused = await settled(h.enqueue(a).done);
    expect(refused.kind).toBe("rejected");
    const error = refused.kind === "rejected" ? refused.error : undefined;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error?.httpStatus).toBe(429);
    expect(error?.retryAfterSeconds).toBe(1);
    h.enqueue(b);
    expect(h.queue.depth).toBe(4);
    expect(h.refusals).toEqual(["a:tenant_full"]);
  });

  it("when full, sheds the lowest priority's newest waiter for a higher priority newcomer", async () => {
    const h = harness({ maxLength: 6, guaranteedPerTenant: 2 });
    const [low, high] = [tenant("low", 2), tenant("high", 8)];
    for (let i = 0; i < 6; i++) h.enqueue(low);
    const lastLow = h.outcomes[5]!;
    h.enqueue(high);
    const shed = await settled(lastLow);
    expect(shed.kind === "rejected" && shed.error.httpStatus).toBe(503);
    expect(shed.kind === "rejected" && shed.error.retryAfterSeconds).toBe(1);
    expect(h.waits).toContainEqual(["low", "shed"]);
    expect(h.queue.depth).toBe(6);
  });

  it("when full, refuses a newcomer of lower priority with 503, but never below a tenant's guaranteed waiters", async () => {
    const h = harness({ maxLength: 4, guaranteedPerTenant: 1 });
    const [low, high] = [tenant("low", 2), tenant("high", 8)];
    for (let i = 0; i < 4; i++) h.enqueue(high);
    // low has no waiter yet: its guaranteed one gets in, shedding from the tenant with the most
    h.enqueue(low);
    expect(h.waits).toContainEqual(["high", "shed"]);
    const second = await settled(h.enqueue(low).done);
    expect(second.kind === "rejected" && second.error.httpStatus).toBe(503);
    expect(h.refusals).toEqual(["low:queue_full"]);
    // and both keep being served in turn
    h.release(4);
    expect(h.served.filter((s) => s === "low")).toHaveLength(1);
  });

  it("refuses a waiter past its wait limit with 503 and Retry-After, the tenant's response time capping it", async () => {
    const h = harness({ maxWaitMs: 1_000 });
    const [patient, hurried] = [tenant("patient"), tenant("hurried", 5, "standard", 200)];
    const p = h.enqueue(patient).done;
    const q = h.enqueue(hurried).done;
    h.clock.advance(200);
    h.queue.expire();
    const timedOut = await settled(q);
    expect(timedOut.kind === "rejected" && timedOut.error.httpStatus).toBe(503);
    expect(h.queue.depth).toBe(1);
    h.clock.advance(900);
    h.queue.expire();
    const late = await settled(p);
    expect(late.kind === "rejected" && late.error.code).toBe("TM_ERR_UNAVAILABLE");
    expect(late.kind === "rejected" && late.error.retryAfterSeconds).toBe(1);
    expect(h.queue.depth).toBe(0);
    expect(h.waits.map(([, how]) => how)).toEqual(["timeout", "timeout"]);
  });

  it("does not hand a slot to a waiter already past its deadline", async () => {
    const h = harness({ maxWaitMs: 100 });
    const stale = h.enqueue(tenant("a")).done;
    h.enqueue(tenant("b"));
    h.clock.advance(150);
    h.release(1);
    expect((await settled(stale)).kind).toBe("rejected");
    expect(h.served).toEqual([]);
  });

  it("lets a cancelled waiter leave without a trace", async () => {
    const h = harness();
    const t = h.enqueue(tenant("a"));
    h.enqueue(tenant("a"));
    t.cancel();
    t.cancel();
    expect((await settled(t.done)).kind).toBe("cancelled");
    expect(h.queue.depth).toBe(1);
    h.release(1);
    expect(h.served).toEqual(["a"]);
  });

  it("fails waiters at once when no backend is available", async () => {
    const h = harness();
    const ticket = h.queue.enqueue({ tenant: tenant("a"), tryAcquire: () => ({ kind: "fail", reason: "none" }) });
    h.queue.onRelease();
    const outcome = await settled(ticket.done);
    expect(outcome.kind === "rejected" && outcome.error.httpStatus).toBe(503);
  });

  it("reports depth per tenant", () => {
    const h = harness();
    h.enqueue(tenant("a"));
    h.enqueue(tenant("a"));
    h.enqueue(tenant("b"));
    expect(new Map(h.queue.depthByTenant())).toEqual(new Map([["a", 2], ["b", 1]]));
  });
});
