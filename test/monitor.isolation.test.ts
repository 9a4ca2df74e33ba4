import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { TenantWindow } from "../src/gen/tenantmesh/v1/monitor.js";
import { isolationReport, type ClusterWindowRow, type WindowRow } from "../src/monitor/index.js";
import { monitorClient, report, rpc, scriptedWindow } from "../src/monitor/testing.js";
import { bearer, provision, tenantClient } from "../src/tenants/testing.js";
import { startTestControlPlane } from "./support/control-plane.js";

/**
 * The isolation report's definition, exactly: baseline = the tenant's p99 over the last 24 h of windows in
 * which the cluster ran under 50% utilization; flagged = p99 above baseline × 1.05 in 3 consecutive windows
 * of ≥ 100 requests each; for a flagged tenant, the other tenants holding most capacity in those windows.
 */
const MIN = 60_000;
const now = Date.UTC(2026, 5, 1, 12, 0, 0);
const CAPACITY = 100;

/** `n` requests: 99% at `typical` ms, 1% at `tail` ms (so p99 is `typical`, p99.5 the tail) */
const latencies = (n: number, typical: number, tail: number): number[] => Array.from({ length: n }, (_, i) => (i < n - Math.floor(n / 100) ? typical : tail));

function toRow(w: TenantWindow): WindowRow {
  return {
    tenant_id: w.tenantId,
    measurement_period: w.windowStart!,
    window_seconds: w.windowSeconds,
    source: "p",
    requests: Number(w.requests),
    errors: 0,
    throttled: 0,
    queued: 0,
    queue_wait_ms: 0,
    busy_ms: w.busyMs,
    unit_capacity: 10,
    latency_histogram: w.latencyHistogram,
  };
}

/** A load history: quiet hours (cluster at 20%), then the last 10 minutes of trouble for some tenants */
function history(): { windows: TenantWindow[]; clusters: ClusterWindowRow[] } {
  const windows: TenantWindow[] = [];
  const clusters: ClusterWindowRow[] = [];
  const add = (tenantId: string, start: number, lat: number[], busyMs: number): void => void windows.push(scriptedWindow({ tenantId, start, windowSeconds: 60, latenciesMs: lat, busyMs }));
  for (let s = now - 3 * 60 * MIN; s < now - 10 * MIN; s += MIN) {
    clusters.push({ window_start: new Date(s), window_seconds: 60, source: "p", capacity_slots: CAPACITY, busy_ms: 0.2 * CAPACITY * MIN });
    for (const t of ["victim", "noisy", "calm", "short-run", "thin"]) add(t, s, latencies(200, 50, 300), 2 * MIN);
  }
  for (let i = 0; i < 10; i++) {
    const s = now - (10 - i) * MIN;
    clusters.push({ window_start: new Date(s), window_seconds: 60, source: "p", capacity_slots: CAPACITY, busy_ms: 0.9 * CAPACITY * MIN });
    const trouble = i >= 5 && i <= 7;
    add("victim", s, latencies(200, trouble ? 54 : 50, 300), 5 * MIN);
    add("noisy", s, latencies(5_000, 50, 300), trouble ? 60 * MIN : 10 * MIN);
    add("calm", s, latencies(200, 52, 300), 4 * MIN); // +4%: within the 5% tolerance
    add("short-run", s, latencies(200, i === 6 || i === 7 ? 80 : 50, 300), 1 * MIN); // only 2 degraded windows
    add("thin", s, latencies(i === 6 ? 99 : 200, trouble ? 80 : 50, 300), 1 * MIN); // one of 3 has 99 requests
  }
  return { windows, clusters };
}

describe("isolationReport", () => {
  const { windows, clusters } = history();
  const report = isolationReport({ windows: windows.map(toRow), clusters, windowMs: MIN, lookbackMs: 60 * MIN, now });
  const of = (id: string) => report.find((t) => t.tenantId === id)!;

  it("baselines are p99 over the quiet windows only", () => {
    expect(of("victim").baselineP99Ms).toBeCloseTo(50, 0);
    expect(of("victim").baselineWindows).toBe(170);
    expect(of("victim").baselineRequests).toBe(String(170 * 200));
  });

  it("flags a tenant degraded by more than 5% in 3 consecutive windows of ≥ 100 requests", () => {
    const v = of("victim");
    expect(v.flagged).toBe(true);
    expect(v.flaggedWindows.map((w) => w.start!.getTime())).toEqual([5, 6, 7].map((i) => now - (10 - i) * MIN));
    expect(v.flaggedWindows.every((w) => w.p99Ms > 50 * 1.05 && w.requests === "200" && w.clusterUtilization === 0.9)).toBe(true);
  });

  it("names the tenants holding most capacity at the time, most first", () => {
    const top = of("victim").topConsumers;
    expect(top.map((c) => c.tenantId)).toEqual(["noisy", "calm", "short-run"]);
    expect(top[0]!.capacityShare).toBeCloseTo((3 * 60 * MIN) / (3 * CAPACITY * MIN), 10);
  });

  it("does not flag within tolerance, for a run of 2, or when a window has fewer than 100 requests", () => {
    expect(of("calm").flagged).toBe(false);
    expect(of("short-run").flagged).toBe(false);
    expect(of("thin").flagged).toBe(false);
    expect(of("noisy").flagged).toBe(false);
    expect(of("calm").topConsumers).toEqual([]);
  });

  it("lists flagged tenants first", () => {
    expect(report[0]!.tenantId).toBe("victim");
  });

  it("without quiet windows there is no baseline, so nobody is flagged", () => {
    const busy = clusters.map((c) => ({ ...c, busy_ms: 0.6 * CAPACITY * MIN }));
    const r = isolationReport({ windows: windows.map(toRow), clusters: busy, windowMs: MIN, lookbackMs: 60 * MIN, now });
    expect(r.every((t) => !t.flagged && t.baselineP99Ms === 0)).toBe(true);
  });
});

describe("GetIsolationReport", () => {
  it("answers the same report from stored windows, for every tenant (operator)", async () => {
    const clock = new ManualClock(Math.floor(Date.now() / MIN) * MIN);
    const tcp = await startTestControlPlane({ clock });
    try {
      const tenants = tenantClient(tcp.address);
      const victim = (await provision(tenants, tcp.adminToken)).tenant!.id;
      const noisy = (await provision(tenants, tcp.adminToken)).tenant!.id;
      tenants.close();
      const client = monitorClient(tcp.address);
      const token = issueServiceToken(tcp.cp.secrets, "proxy", ["metrics:write"], { clock });
      const t = clock.now();
      const windows: TenantWindow[] = [];
      const clusterWindows = [];
      for (let i = 0; i < 20; i++) {
        const s = t - (20 - i) * MIN;
        const trouble = i >= 15 && i <= 17;
        windows.push(scriptedWindow({ tenantId: victim, start: s, windowSeconds: 60, latenciesMs: latencies(150, trouble ? 70 : 40, 200) }));
        windows.push(scriptedWindow({ tenantId: noisy, start: s, windowSeconds: 60, latenciesMs: latencies(150, 40, 200), busyMs: trouble ? 50 * MIN : MIN }));
        clusterWindows.push({ windowStart: new Date(s), windowSeconds: 60, capacitySlots: "100", busyMs: (i < 15 ? 0.3 : 0.8) * 100 * MIN });
      }
      await report(client, bearer(token), [{ source: "proxy-1", tenants: windows, clusters: clusterWindows }]);
      const res = await rpc(client, client.getIsolationReport, { windowSeconds: 0, lookbackSeconds: 0 }, bearer(tcp.adminToken));
      expect(res.windowSeconds).toBe(60);
      expect(res.tenants.map((x) => x.tenantId).sort()).toEqual([victim, noisy].sort());
      const v = res.tenants.find((x) => x.tenantId === victim)!;
      expect(v.flagged).toBe(true);
      expect(v.baselineP99Ms).toBeCloseTo(40, 0);
      expect(v.flaggedWindows).toHaveLength(3);
      expect(v.topConsumers[0]).toMatchObject({ tenantId: noisy, capacityShare: 0.5 });
      client.close();
    } finally {
      await tcp.close();
    }
  });
});
