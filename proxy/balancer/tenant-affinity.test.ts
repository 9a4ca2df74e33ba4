import { describe, expect, it } from "vitest";
import { Backend } from "../upstream/backend.js";
import type { PickRequest, PickResult } from "./balancer.js";
import { TenantAffinityBalancer } from "./tenant-affinity.js";

const cluster = (n: number, capacity = 8): Backend[] =>
  Array.from({ length: n }, (_, i) => new Backend({ id: `b${i}`, address: `10.0.0.${i}:8080`, capacity }));
const ids = (backends: readonly Backend[]): string[] => backends.map((b) => b.id);
const tenants = (count: number): string[] => Array.from({ length: count }, (_, i) => `tenant-${i}`);
const ask = (id: string, priority: number, scale: number): PickRequest => ({ tenant: { id, priority, scale }, now: 0 });
const fill = (b: Backend, count: number): void => {
  for (let i = 0; i < count; i++) b.acquire("filler");
};

/** Picks and acquires; throws unless the result is a pick, so a test reads as the sequence of backends chosen */
function take(balancer: TenantAffinityBalancer, request: PickRequest): string {
  const result: PickResult = balancer.pick(request);
  if (result.kind !== "pick") throw new Error(`expected a pick, got ${result.kind}`);
  result.backend.acquire(request.tenant.id);
  return result.backend.id;
}

describe("TenantAffinityBalancer: subsets", () => {
  it("maps the same tenant to the same subset every time, whatever the order of the backend list", () => {
    const backends = cluster(8);
    const a = new TenantAffinityBalancer(backends);
    const b = new TenantAffinityBalancer([...backends].reverse());
    for (const tenant of tenants(50)) {
      const subset = ids(a.subsetFor(tenant, 3));
      expect(ids(a.subsetFor(tenant, 3))).toEqual(subset);
      expect(ids(b.subsetFor(tenant, 3))).toEqual(subset);
    }
  });

  it("spreads 200 tenants across 8 backends with each backend's share within 0.5x-1.6x of even", () => {
    const balancer = new TenantAffinityBalancer(cluster(8));
    const share = new Map<string, number>();
    for (const tenant of tenants(200)) {
      const [first] = balancer.subsetFor(tenant, 1);
      share.set(first!.id, (share.get(first!.id) ?? 0) + 1);
    }
    expect(share.size).toBe(8);
    for (const count of share.values()) {
      expect(count).toBeGreaterThanOrEqual(12); // even is 25
      expect(count).toBeLessThanOrEqual(40);
    }
  });

  it("spreads 10,000 tenants to within 10% of even, and by weight when weights differ", () => {
    const even = new TenantAffinityBalancer(cluster(8));
    const weighted = new TenantAffinityBalancer([
      ...cluster(3),
      new Backend({ id: "heavy", address: "10.0.0.9:8080", capacity: 8, weight: 3 }),
    ]);
    const evenShare = new Map<string, number>();
    const weightedShare = new Map<string, number>();
    for (const tenant of tenants(10_000)) {
      const e = even.subsetFor(tenant, 1)[0]!.id;
      const w = weighted.subsetFor(tenant, 1)[0]!.id;
      evenShare.set(e, (evenShare.get(e) ?? 0) + 1);
      weightedShare.set(w, (weightedShare.get(w) ?? 0) + 1);
    }
    for (const count of evenShare.values()) expect(Math.abs(count - 1_250)).toBeLessThan(125);
    expect(Math.abs(weightedShare.get("heavy")! - 5_000)).toBeLessThan(500);
    expect(Math.abs(weightedShare.get("b0")! - 1_667)).toBeLessThan(167);
  });

  it("removing one backend of 8 moves only the tenants that had it in their subset, about scale/8 of them", () => {
    const backends = cluster(8);
    const balancer = new TenantAffinityBalancer(backends);
    const before = new Map(tenants(200).map((t) => [t, ids(balancer.subsetFor(t, 2))]));
    balancer.update(backends.filter((b) => b.id !== "b3"));
    let moved = 0;
    for (const [tenant, old] of before) {
      const now = ids(balancer.subsetFor(tenant, 2));
      if (!old.includes("b3")) expect(now).toEqual(old);
      else {
        moved++;
        for (const kept of old.filter((id) => id !== "b3")) expect(now).toContain(kept);
      }
    }
    expect(moved).toBeGreaterThanOrEqual(30); // expected 200 × 2/8 = 50
    expect(moved).toBeLessThanOrEqual(70);
  });

  it("adding a backend changes only the subsets it enters, each losing exactly one member", () => {
    const backends = cluster(8);
    const balancer = new TenantAffinityBalancer(backends);
    const before = new Map(tenants(200).map((t) => [t, ids(balancer.subsetFor(t, 2))]));
    balancer.update([...backends, new Backend({ id: "b8", address: "10.0.0.8:8080", capacity: 8 })]);
    let moved = 0;
    for (const [tenant, old] of before) {
      const now = ids(balancer.subsetFor(tenant, 2));
      if (!now.includes("b8")) expect(now).toEqual(old);
      else {
        moved++;
        expect(now.filter((id) => old.includes(id))).toHaveLength(1);
      }
    }
    expect(moved).toBeGreaterThanOrEqual(25); // expected 200 × 2/9 ≈ 44
    expect(moved).toBeLessThanOrEqual(65);
  });

  it("sizes the subset by scale: a prefix of the ranking, clamped to [1, backends]", () => {
    const balancer = new TenantAffinityBalancer(cluster(8));
    const three = ids(balancer.subsetFor("acme", 3));
    expect(three).toHaveLength(3);
    expect(ids(balancer.subsetFor("acme", 1))).toEqual(three.slice(0, 1));
    expect(ids(balancer.subsetFor("acme", 5)).slice(0, 3)).toEqual(three);
    expect(balancer.subsetFor("acme", 0)).toHaveLength(1);
    expect(balancer.subsetFor("acme", Number.NaN)).toHaveLength(1);
    expect(balancer.subsetFor("acme", 100)).toHaveLength(8);
  });

  it("spreads a tenant's picks over exactly `scale` backends, following scale changes", () => {
    const backends = cluster(8, 100);
    const balancer = new TenantAffinityBalancer(backends);
    /** 30 picks held in flight, then released, so each scale starts from an idle cluster */
    const inFlightAt = (scale: number): Map<string, number> => {
      const releases = Array.from({ length: 30 }, () => {
        const result = balancer.pick(ask("acme", 5, scale));
        if (result.kind !== "pick") throw new Error("expected a pick");
        return result.backend.acquire("acme");
      });
      const counts = new Map(backends.filter((b) => b.inFlight > 0).map((b) => [b.id, b.inFlight]));
      releases.forEach((release) => release());
      return counts;
    };
    const one = ids(balancer.subsetFor("acme", 1));
    const three = ids(balancer.subsetFor("acme", 3));
    expect(inFlightAt(1)).toEqual(new Map([[one[0]!, 30]]));
    expect(inFlightAt(3)).toEqual(new Map(three.map((id) => [id, 10])));
  });

  it("stays correct when the ranking cache evicts tenants", () => {
    const balancer = new TenantAffinityBalancer(cluster(8), { maxCachedTenants: 1 });
    const first = ids(balancer.subsetFor("acme", 2));
    balancer.subsetFor("globex", 2);
    expect(ids(balancer.subsetFor("acme", 2))).toEqual(first);
  });
});

describe("TenantAffinityBalancer: choosing within and beyond the subset", () => {
  it("overflows outside the subset only when every subset member is saturated, to the least-loaded other backend", () => {
    const backends = cluster(8, 4);
    const balancer = new TenantAffinityBalancer(backends);
    const subset = ids(balancer.subsetFor("acme", 2));
    const others = backends.filter((b) => !subset.includes(b.id));
    others.forEach((b, i) => fill(b, i === 3 ? 1 : 2));
    const picked = Array.from({ length: 8 }, () => take(balancer, ask("acme", 9, 2)));
    expect(new Set(picked)).toEqual(new Set(subset));
    expect(take(balancer, ask("acme", 9, 2))).toBe(others[3]!.id);
  });

  it("skips unhealthy and ejected subset members, overflowing only when none is left", () => {
    const backends = cluster(8);
    const balancer = new TenantAffinityBalancer(backends);
    const [first, second] = balancer.subsetFor("acme", 2);
    first!.health = "unhealthy";
    expect(take(balancer, ask("acme", 5, 2))).toBe(second!.id);
    second!.ejectedUntil = 1;
    const overflow = take(balancer, ask("acme", 5, 2));
    expect([first!.id, second!.id]).not.toContain(overflow);
  });

  it("uses a degraded subset member only after every healthy backend is full", () => {
    const backends = cluster(4, 2);
    const balancer = new TenantAffinityBalancer(backends);
    const [degraded, healthy] = balancer.subsetFor("acme", 2);
    degraded!.health = "degraded";
    const request = ask("acme", 9, 2);
    expect([take(balancer, request), take(balancer, request)]).toEqual([healthy!.id, healthy!.id]);
    const overflow = [take(balancer, request), take(balancer, request), take(balancer, request), take(balancer, request)];
    expect(overflow).not.toContain(degraded!.id);
    expect(take(balancer, request)).toBe(degraded!.id);
  });

  it("prefers the subset member with less load, counting the tenant's own requests twice", () => {
    const backends = cluster(8, 10);
    const balancer = new TenantAffinityBalancer(backends);
    const [first, second] = balancer.subsetFor("acme", 2);
    fill(first!, 2);
    second!.acquire("acme");
    // first: (2 + 0) / 10, second: (1 + 1) / 10 — a tie goes to the higher-ranked backend
    expect(take(balancer, ask("acme", 5, 2))).toBe(first!.id);
    // now first: (3 + 1) / 10 against second: 2 / 10
    expect(take(balancer, ask("acme", 5, 2))).toBe(second!.id);
  });
});

describe("TenantAffinityBalancer: priority decides contested picks", () => {
  it("gives the last free slots to the higher-priority tenant whichever asks first", () => {
    const backends = cluster(2, 8); // ceil(8 × 0.125) = 1 slot per backend reserved for priority ≥ 7
    const balancer = new TenantAffinityBalancer(backends);
    fill(backends[0]!, 6);
    fill(backends[1]!, 7);
    expect(take(balancer, ask("low", 3, 2))).toBe("b0");
    expect(balancer.pick(ask("low", 3, 2)).kind).toBe("queue");
    expect(new Set([take(balancer, ask("high", 9, 2)), take(balancer, ask("high", 9, 2))])).toEqual(new Set(["b0", "b1"]));
    expect(balancer.pick(ask("high", 9, 2)).kind).toBe("queue");
  });

  it("lets the higher-priority tenant keep a contested preferred backend while the lower one overflows", () => {
    const backends = cluster(8, 8);
    const balancer = new TenantAffinityBalancer(backends);
    const preferred = balancer.subsetFor("low", 1)[0]!;
    const high = tenants(100).find((t) => balancer.subsetFor(t, 1)[0] === preferred)!;
    fill(preferred, 7);
    expect(take(balancer, ask("low", 3, 1))).not.toBe(preferred.id);
    expect(take(balancer, ask(high, 7, 1))).toBe(preferred.id);
  });

  it("reserves nothing with reservedForPriority 0, and always leaves one slot open to every tenant", () => {
    const open = new TenantAffinityBalancer(cluster(1, 8), { reservedForPriority: 0 });
    const full = cluster(1, 8);
    fill(full[0]!, 7);
    open.update(full);
    expect(open.pick(ask("low", 1, 1)).kind).toBe("pick");
    const tiny = new TenantAffinityBalancer(cluster(1, 1), { reservedForPriority: 0.5 });
    expect(tiny.pick(ask("low", 1, 1)).kind).toBe("pick");
  });

  it("honours a configured priority threshold", () => {
    const backends = cluster(1, 4);
    fill(backends[0]!, 3);
    const balancer = new TenantAffinityBalancer(backends, { priorityThreshold: 4 });
    expect(balancer.pick(ask("a", 3, 1)).kind).toBe("queue");
    expect(balancer.pick(ask("b", 4, 1)).kind).toBe("pick");
  });
});
