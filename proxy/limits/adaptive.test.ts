import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import { createRouteTable } from "../config/routes.js";
import { queueAllFull } from "../balancer/balancer.js";
import { ProxyContext } from "../context.js";
import { UpstreamCluster } from "../upstream/cluster.js";
import { AdaptiveCluster, adaptiveRoutes } from "./adaptive.js";

const who = { id: "t", priority: 5, scale: 1 };

function cluster() {
  return new UpstreamCluster({
    name: "c",
    strategy: "round_robin",
    protocol: "http",
    backends: [0, 1, 2, 3].map((i) => ({ id: `b${i}`, address: `127.0.0.1:${7000 + i}`, capacity: 8 })),
  });
}

/** Holds `n` slots through the adaptive cluster (as the pick stage would) */
function hold(a: AdaptiveCluster, n: number, now: number): Array<() => boolean> {
  const releases: Array<() => boolean> = [];
  for (let i = 0; i < n; i++) {
    const r = a.pick(who, now);
    if (r.kind !== "pick") break;
    releases.push(r.backend.acquire(who.id));
  }
  return releases;
}

/** One interval of `n` finished requests of `ms` each */
function interval(a: AdaptiveCluster, clock: ManualClock, ms: number, n = 40): void {
  for (let i = 0; i < n; i++) a.observe(ms, clock.now());
  clock.advance(250);
  a.observe(ms, clock.now());
}

describe("AdaptiveCluster", () => {
  it("starts at the advertised capacity and never oversells it", () => {
    const clock = new ManualClock(0);
    const a = new AdaptiveCluster(cluster(), clock, { lightReserve: 0 });
    expect(a.limit).toBe(32);
    expect(hold(a, 40, 0)).toHaveLength(32);
    expect(a.pick(who, 0).kind).toBe("queue");
  });

  it("keeps a few slots for light tenants: a flooding tenant stops short, a light one gets in at once", () => {
    const clock = new ManualClock(0);
    const a = new AdaptiveCluster(cluster(), clock); // reserve: 5 % of 32 → 2
    expect(hold(a, 40, 0)).toHaveLength(30);
    const held = a.pick(who, 0);
    expect(held.kind).toBe("queue");
    expect(held).not.toBe(queueAllFull); // the queue may still try a light tenant behind
    const light = { id: "light", priority: 1, scale: 1 };
    for (let i = 0; i < 2; i++) {
      const r = a.pick(light, 0);
      expect(r.kind).toBe("pick");
      if (r.kind === "pick") r.backend.acquire("light");
    }
    expect(a.pick(light, 0)).toBe(queueAllFull); // the advertised capacity is the hard bound
    expect(a.inFlight()).toBe(32);
  });

  it("learns the baseline only while lightly loaded, then lowers the limit when slot time rises under load", () => {
    const clock = new ManualClock(0);
    const a = new AdaptiveCluster(cluster(), clock, { tolerance: 0.1, lightReserve: 0, minShare: 0.25 });
    hold(a, 2, 0).forEach((r) => r());
    interval(a, clock, 12);
    expect(a.baseline).toBe(12);
    // Loaded and slow: no baseline learning, the limit comes down in proportion (12 × 1.1 / 24 → × 0.55)
    const held = hold(a, 32, clock.now());
    interval(a, clock, 24);
    expect(a.baseline).toBe(12);
    expect(a.limit).toBe(17);
    expect(a.pick(who, clock.now()).kind).toBe("queue");
    held.forEach((r) => r());
  });

  it("never lowers the limit below minShare of the capacity, however slow slots get", () => {
    const clock = new ManualClock(0);
    const a = new AdaptiveCluster(cluster(), clock, { lightReserve: 0 });
    hold(a, 1, 0).forEach((r) => r());
    interval(a, clock, 10);
    hold(a, 32, clock.now());
    for (let i = 0; i < 10; i++) interval(a, clock, 1_000);
    expect(a.limit).toBe(16);
  });

  it("climbs back while the limit binds and slot time is within tolerance, telling the queue", () => {
    const clock = new ManualClock(0);
    const a = new AdaptiveCluster(cluster(), clock, { tolerance: 0.1, lightReserve: 0, minShare: 0.25 });
    let raised = 0;
    a.onRaise = () => raised++;
    hold(a, 1, 0).forEach((r) => r());
    interval(a, clock, 10);
    hold(a, 32, clock.now());
    interval(a, clock, 40); // → limit 16 (halved at most per interval)
    expect(a.limit).toBe(16);
    for (let i = 0; i < 30; i++) interval(a, clock, 10.5);
    expect(a.limit).toBe(32);
    expect(raised).toBeGreaterThan(5);
  });

  it("wraps a route table: stable wrappers per cluster and route, slot time fed by the hook", () => {
    const clock = new ManualClock(0);
    const inner = cluster();
    const table = createRouteTable([{ name: "api", match: { httpPathPrefix: "/v1" }, cluster: "c" }], [inner]);
    const adaptive = adaptiveRoutes({ clock });
    const routes = adaptive.routes(() => table);
    const route = routes().matchHttp("GET", "/v1/x")!;
    expect(route).toBe(routes().matchHttp("GET", "/v1/y"));
    expect(route.cluster).toBeInstanceOf(AdaptiveCluster);
    expect(routes().clusters()[0]).toBe(route.cluster);
    expect(routes().matchHttp("GET", "/other")).toBeUndefined();
    const ctx = new ProxyContext("http", { kind: "upgrade" } as never, "GET", "/v1/x", "", "", "", {}, "r", 0);
    Object.assign(ctx, { route, backend: inner.backends()[0] });
    ctx.timings.picked = 1;
    for (let i = 0; i < 20; i++) {
      ctx.timings.end = 9;
      adaptive.hook(ctx);
    }
    clock.advance(300);
    adaptive.hook(ctx);
    expect((route.cluster as AdaptiveCluster).baseline).toBe(8);
  });
});
