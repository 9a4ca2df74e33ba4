import { describe, expect, it } from "vitest";
import { Backend } from "../upstream/backend.js";
import type { PickRequest } from "./balancer.js";
import { RoundRobinBalancer } from "./round-robin.js";

const cluster = (n: number, capacity = 10): Backend[] =>
  Array.from({ length: n }, (_, i) => new Backend({ id: `b${i}`, address: `10.0.0.${i}:8080`, capacity }));
const request: PickRequest = { tenant: { id: "acme", priority: 5, scale: 1 }, now: 0 };

/** Picks `times` times, acquiring and at once releasing each slot, and counts picks per backend id */
function countPicks(balancer: RoundRobinBalancer, times: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < times; i++) {
    const result = balancer.pick(request);
    if (result.kind !== "pick") throw new Error(`expected a pick, got ${result.kind}`);
    result.backend.acquire("acme")();
    counts.set(result.backend.id, (counts.get(result.backend.id) ?? 0) + 1);
  }
  return counts;
}

describe("RoundRobinBalancer", () => {
  it("spreads 1,000 picks over 7 backends evenly to within one pick", () => {
    const counts = countPicks(new RoundRobinBalancer(cluster(7)), 1_000);
    expect(counts.size).toBe(7);
    const values = [...counts.values()];
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
  });

  it("skips full and unavailable backends and stays even over the rest", () => {
    const backends = cluster(8);
    for (let i = 0; i < 10; i++) backends[2]!.acquire("globex");
    backends[4]!.health = "unhealthy";
    backends[6]!.ejectedUntil = 1;
    const counts = countPicks(new RoundRobinBalancer(backends), 1_000);
    expect([...counts.keys()].sort()).toEqual(["b0", "b1", "b3", "b5", "b7"]);
    const values = [...counts.values()];
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
  });

  it("returns a freed backend to the rotation once it has a slot again", () => {
    const backends = cluster(2, 1);
    const balancer = new RoundRobinBalancer(backends);
    const release = backends[0]!.acquire("globex");
    expect(balancer.pick(request)).toMatchObject({ kind: "pick", backend: backends[1] });
    backends[1]!.acquire("globex");
    expect(balancer.pick(request).kind).toBe("queue");
    release();
    expect(balancer.pick(request)).toMatchObject({ kind: "pick", backend: backends[0] });
  });

  it("keeps rotating evenly over the new membership after update", () => {
    const backends = cluster(4);
    const balancer = new RoundRobinBalancer(backends);
    countPicks(balancer, 3);
    balancer.update([...backends, ...cluster(6).slice(4)]);
    const values = [...countPicks(balancer, 600).values()];
    expect(values).toHaveLength(6);
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
  });
});
