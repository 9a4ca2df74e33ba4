import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCounter, HotHistogram } from "./hot-metrics.js";

describe("hot-path metrics", () => {
  it("expose counters through a prom-client Registry as prom-client would", async () => {
    const registry = new Registry();
    const c = new HotCounter("t_requests_total", "Requests", ["tenant", "code"], registry);
    c.labels(["a", "200"]).value += 2;
    c.labels(["a", "200"]).value++;
    c.labels(["b", "500"]).value++;
    const text = await registry.metrics();
    expect(text).toContain("# HELP t_requests_total Requests\n# TYPE t_requests_total counter\n");
    expect(text).toContain('t_requests_total{tenant="a",code="200"} 3\n');
    expect(text).toContain('t_requests_total{tenant="b",code="500"} 1');
    c.remove(["a", "200"]);
    expect(await registry.metrics()).not.toContain('tenant="a"');
  });

  it("expose a histogram identical to prom-client's own for the same observations", async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotHistogram("t_duration_seconds", "Duration", ["tenant"], buckets, ours);
    const reference = new Histogram({ name: "t_duration_seconds", help: "Duration", labelNames: ["tenant"], buckets, registers: [theirs] });
    for (const [tenant, v] of [["a", 0.0005], ["a", 0.001], ["a", 0.05], ["a", 3], ["b", 0.1], ["b", 0.1000001]] as const) {
      hot.labels([tenant]).observe(v);
      reference.observe({ tenant }, v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("refuse label values that do not match the label names, and buckets that do not increase", () => {
    const registry = new Registry();
    const c = new HotCounter("t_x_total", "x", ["a", "b"], registry);
    expect(() => c.labels(["only-one"])).toThrow(RangeError);
    expect(() => new HotHistogram("t_h", "h", [], [1, 1], registry)).toThrow(/increase/);
  });
});
