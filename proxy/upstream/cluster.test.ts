import { describe, expect, it } from "vitest";
import { Backend } from "./backend.js";
import { toStrategyName, UpstreamCluster } from "./cluster.js";

const tenant = { id: "acme", priority: 5, scale: 1 };
const decl = (id: string, capacity = 2) => ({ id, address: `127.0.0.1:${id.charCodeAt(0)}`, capacity });

describe("UpstreamCluster", () => {
  it("accepts both spellings of a strategy", () => {
    expect(toStrategyName("tenant_affinity")).toBe("tenant-affinity");
    expect(toStrategyName("least-connections")).toBe("least-connections");
    expect(toStrategyName("random")).toBeUndefined();
    expect(new UpstreamCluster({ name: "c", strategy: "tenant_affinity", protocol: "http", backends: [decl("a")] }).strategy).toBe("tenant-affinity");
    expect(() => new UpstreamCluster({ name: "c", strategy: "random" as never, protocol: "http", backends: [] })).toThrow(/unknown strategy/);
  });

  it("picks through its balancer and never an ejected backend", () => {
    const cluster = new UpstreamCluster({ name: "c", strategy: "round_robin", protocol: "http", backends: [decl("a"), decl("b")] });
    const [a] = cluster.backends();
    a!.ejectedUntil = 1_000;
    for (let i = 0; i < 4; i++) {
      const r = cluster.pick(tenant, 500);
      expect(r.kind === "pick" && r.backend.id).toBe("b");
    }
  });

  it("ejects a failing backend through outlier detection", () => {
    const cluster = new UpstreamCluster({ name: "c", strategy: "round_robin", protocol: "http", backends: [decl("a"), decl("b")], outlier: { consecutiveFailures: 2 } });
    const [a] = cluster.backends();
    cluster.recordOutcome(a!, "connect_failure", 0);
    cluster.recordOutcome(a!, "http_5xx", 0);
    expect(a!.ejectedUntil).toBe(1_000);
    expect(cluster.ejections(a!)).toBe(1);
    expect(cluster.toJSON().backends[0]).toMatchObject({ id: "a", ejections: 1 });
  });

  it("keeps unchanged backends with their in-flight state across a membership change", () => {
    const cluster = new UpstreamCluster({ name: "c", strategy: "least_connections", protocol: "http", backends: [decl("a"), decl("b")] });
    const [a, b] = cluster.backends();
    const release = a!.acquire("acme");
    const change = cluster.setBackends([decl("a"), { ...decl("b"), capacity: 9 }, decl("c")]);
    const [a2, b2, c2] = cluster.backends();
    expect(a2).toBe(a);
    expect(a2!.inFlight).toBe(1);
    expect(b2).not.toBe(b);
    expect(change.removed).toEqual([b]);
    expect(change.added).toEqual([b2, c2]);
    expect(release()).toBe(true);
    expect(a!.inFlight).toBe(0);
  });

  it("ignores outcomes of a backend that already left", () => {
    const gone = new Backend(decl("z"));
    const cluster = new UpstreamCluster({ name: "c", strategy: "round_robin", protocol: "grpc", backends: [decl("a")], outlier: { consecutiveFailures: 1 } });
    cluster.recordOutcome(gone, "http_5xx", 0);
    expect(gone.ejectedUntil).toBe(0);
  });
});
