import { describe, expect, it } from "vitest";
import { Backend } from "../upstream/backend.js";
import { createBalancer, isStrategyName, strategyNames, type PickRequest } from "./index.js";

const cluster = (n: number, capacity = 4): Backend[] =>
  Array.from({ length: n }, (_, i) => new Backend({ id: `b${i}`, address: `10.0.0.${i}:8080`, capacity }));
const fill = (b: Backend, count = b.capacity - b.inFlight): void => {
  for (let i = 0; i < count; i++) b.acquire("filler");
};
// Top priority, so tenant-affinity's reserved slots do not apply here (tenant-affinity.test.ts covers them)
const request: PickRequest = { tenant: { id: "acme", priority: 10, scale: 2 }, now: 1_000 };

/** Runs `times` picks, acquiring and releasing each, and returns the ids picked */
function pickedIds(strategy: (typeof strategyNames)[number], backends: Backend[], times: number): Set<string> {
  const balancer = createBalancer(strategy, backends);
  const ids = new Set<string>();
  for (let i = 0; i < times; i++) {
    const result = balancer.pick(request);
    if (result.kind !== "pick") throw new Error(`expected a pick, got ${result.kind}`);
    result.backend.acquire(request.tenant.id)();
    ids.add(result.backend.id);
  }
  return ids;
}

describe.each(strategyNames)("the Balancer contract: %s", (strategy) => {
  it("returns queue when every available backend is at capacity", () => {
    const backends = cluster(3);
    backends.forEach((b) => fill(b));
    backends[2]!.health = "unhealthy";
    expect(createBalancer(strategy, backends).pick(request)).toEqual({
      kind: "queue",
      reason: expect.any(String),
    });
  });

  it("returns fail when no backend is available, and for an empty cluster", () => {
    const backends = cluster(3);
    backends[0]!.health = "unhealthy";
    backends[1]!.ejectedUntil = request.now + 1;
    backends[2]!.health = "unhealthy";
    expect(createBalancer(strategy, backends).pick(request)).toEqual({ kind: "fail", reason: expect.any(String) });
    expect(createBalancer(strategy, []).pick(request).kind).toBe("fail");
  });

  it("never picks an unhealthy or ejected backend", () => {
    const backends = cluster(6);
    backends[1]!.health = "unhealthy";
    backends[3]!.ejectedUntil = request.now + 1;
    const ids = pickedIds(strategy, backends, 300);
    expect(ids.has("b1")).toBe(false);
    expect(ids.has("b3")).toBe(false);
  });

  it("picks a degraded backend only when no healthy one has room", () => {
    const backends = cluster(3, 2);
    backends[0]!.health = "degraded";
    backends[2]!.health = "degraded";
    const balancer = createBalancer(strategy, backends);
    const picked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = balancer.pick(request);
      if (result.kind !== "pick") throw new Error("expected a pick");
      result.backend.acquire("acme");
      picked.push(result.backend.id);
    }
    expect(picked.slice(0, 2)).toEqual(["b1", "b1"]);
    expect(picked.slice(2).every((id) => id !== "b1")).toBe(true);
    expect(balancer.pick(request).kind).toBe("queue");
  });

  it("stops picking a removed backend after update and keeps the others' in-flight state", () => {
    const backends = cluster(4);
    const balancer = createBalancer(strategy, backends);
    backends[0]!.acquire("acme");
    balancer.update(backends.slice(0, 3));
    for (let i = 0; i < 100; i++) {
      const result = balancer.pick(request);
      expect(result.kind === "pick" && result.backend.id).not.toBe("b3");
    }
    expect(backends[0]!.inFlight).toBe(1);
  });

  it("reports its strategy name", () => {
    expect(createBalancer(strategy, cluster(1)).name).toBe(strategy);
  });
});

describe("createBalancer", () => {
  it("rejects an unknown strategy name and duplicate backend ids", () => {
    expect(isStrategyName("random")).toBe(false);
    expect(() => createBalancer("random" as never, cluster(1))).toThrow(RangeError);
    const [b0] = cluster(1);
    expect(() => createBalancer("round-robin", [b0!, b0!])).toThrow(/duplicate backend id b0/);
  });

  it("rejects out-of-range tenant-affinity options at start-up", () => {
    expect(() => createBalancer("tenant-affinity", cluster(1), { reservedForPriority: 1 })).toThrow(RangeError);
    expect(() => createBalancer("tenant-affinity", cluster(1), { maxCachedTenants: 0 })).toThrow(RangeError);
  });
});
