import { afterEach, describe, expect, it } from "vitest";
import { OTHER_TENANT, ProxyMetrics, type RequestRecord } from "./metrics.js";

const req = (tenantId: string | undefined, patch: Partial<RequestRecord> = {}): RequestRecord => ({
  tenantId,
  cluster: "kyb-http",
  backend: "b1",
  protocol: "http",
  outcome: "ok",
  code: "200",
  durationMs: 3,
  ...patch,
});

/** Distinct `tenant` label values in the exposition, over every metric */
function tenantLabels(text: string): Set<string> {
  return new Set([...text.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]!));
}

let metrics: ProxyMetrics;
afterEach(() => metrics.close());

describe("ProxyMetrics", () => {
  it("keeps tenant label values at N + 1 with 1,000 tenants, across recomputations", async () => {
    metrics = new ProxyMetrics({ topTenants: 20, recomputeIntervalMs: 0 });
    for (let round = 0; round < 3; round++) {
      for (let t = 0; t < 1_000; t++) {
        // Each round a different block of tenants is busiest, so the top set really changes
        const busy = Math.floor(t / 20) === round;
        for (let i = 0; i < (busy ? 5 : 1); i++) metrics.recordRequest(req(`t${t}`, { code: i % 2 ? "200" : "503" }));
        metrics.recordRejection(`t${t}`, "rate_limited");
        metrics.inFlight(`t${t}`, 1);
      }
      metrics.recomputeTopTenants();
      const labels = tenantLabels(await metrics.text());
      expect(labels.size).toBeLessThanOrEqual(21);
      expect(labels.has(OTHER_TENANT)).toBe(true);
      for (let t = round * 20; t < round * 20 + 20; t++) expect(labels.has(`t${t}`)).toBe(true);
    }
  });

  it("admits the first N tenants at once and puts the rest and unidentified callers in other", async () => {
    metrics = new ProxyMetrics({ topTenants: 2, recomputeIntervalMs: 0 });
    for (const t of ["a", "b", "c"]) metrics.recordRequest(req(t));
    metrics.recordRejection(undefined, "unauthenticated");
    expect(metrics.tenantLabel("a")).toBe("a");
    expect(metrics.tenantLabel("c")).toBe(OTHER_TENANT);
    const text = await metrics.text();
    expect(text).toContain('tenantmesh_proxy_requests_total{tenant="a",cluster="kyb-http",backend="b1",protocol="http",outcome="ok",code="200"} 1');
    expect(text).toContain('tenantmesh_proxy_rejections_total{tenant="other",reason="unauthenticated"} 1');
  });

  it("sums in-flight requests at scrape time, so a tenant changing label never drives a gauge negative", async () => {
    metrics = new ProxyMetrics({ topTenants: 1, recomputeIntervalMs: 0 });
    metrics.recordRequest(req("a"));
    metrics.inFlight("a", 1);
    for (let i = 0; i < 5; i++) metrics.recordRequest(req("b"));
    metrics.recomputeTopTenants();
    metrics.inFlight("a", -1);
    metrics.inFlight("b", 1);
    const text = await metrics.text();
    expect(text).toContain('tenantmesh_proxy_in_flight_requests{tenant="b"} 1');
    expect(text).not.toMatch(/in_flight_requests\{tenant="other"\} -/);
    expect(text).not.toContain('tenant="a"');
  });

  it("uses its own registry, so two instances do not collide", async () => {
    metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
    const second = new ProxyMetrics({ recomputeIntervalMs: 0 });
    second.recordRequest(req("x"));
    expect(await metrics.text()).not.toContain('tenant="x"');
    second.close();
  });
});
