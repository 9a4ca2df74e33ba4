import { describe, expect, it } from "vitest";
import { Backend } from "../upstream/backend.js";
import type { PickRequest } from "./balancer.js";
import { LeastConnectionsBalancer } from "./least-connections.js";

const backend = (id: string, capacity: number, inFlight = 0): Backend => {
  const b = new Backend({ id, address: `${id}:8080`, capacity });
  for (let i = 0; i < inFlight; i++) b.acquire("globex");
  return b;
};
const request: PickRequest = { tenant: { id: "acme", priority: 5, scale: 1 }, now: 0 };

function pickedId(balancer: LeastConnectionsBalancer): string {
  const result = balancer.pick(request);
  if (result.kind !== "pick") throw new Error(`expected a pick, got ${result.kind}`);
  return result.backend.id;
}

describe("LeastConnectionsBalancer", () => {
  it("picks the backend with the fewest in flight relative to capacity", () => {
    // b0 has fewer requests in flight but is the more loaded one: 5/10 against 40/100
    const balancer = new LeastConnectionsBalancer([backend("b0", 10, 5), backend("b1", 100, 40), backend("b2", 20, 12)]);
    for (let i = 0; i < 5; i++) expect(pickedId(balancer)).toBe("b1");
  });

  it("breaks ties round robin instead of herding onto the first backend", () => {
    const balancer = new LeastConnectionsBalancer(Array.from({ length: 8 }, (_, i) => backend(`b${i}`, 10)));
    const picked = new Set(Array.from({ length: 8 }, () => pickedId(balancer)));
    expect(picked.size).toBe(8);
  });

  it("fills backends in proportion to their capacity under sustained load", () => {
    const backends = [backend("small", 10), backend("large", 30)];
    const balancer = new LeastConnectionsBalancer(backends);
    for (let i = 0; i < 40; i++) {
      const result = balancer.pick(request);
      if (result.kind !== "pick") throw new Error("expected a pick");
      result.backend.acquire("acme");
    }
    expect(backends.map((b) => b.inFlight)).toEqual([10, 30]);
    expect(balancer.pick(request).kind).toBe("queue");
  });

  it("moves to a backend that became less loaded when its requests finish", () => {
    const busy = backend("busy", 10);
    const releases = Array.from({ length: 8 }, () => busy.acquire("globex"));
    const balancer = new LeastConnectionsBalancer([busy, backend("steady", 10, 4)]);
    expect(pickedId(balancer)).toBe("steady");
    for (const release of releases) release();
    expect(pickedId(balancer)).toBe("busy");
  });
});
