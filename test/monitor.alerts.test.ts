import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { MonitorServiceClient } from "../src/gen/tenantmesh/v1/monitor.js";
import { defaultAlertConfig, evaluateAlertRules, evaluateAlerts, type AlertInput } from "../src/monitor/index.js";
import { monitorClient, report, rpc, scriptedWindow } from "../src/monitor/testing.js";
import { bearer, provision, tenantClient } from "../src/tenants/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/** Alert rules, pure; then raise and clear with timestamps against a real control plane, listed by ListAlerts */
describe("alert rules", () => {
  const quiet: AlertInput = { maxResponseTimeMs: 1_000, requests: 1_000, errors: 0, p99Ms: 100, throttleWindows: [], windowMs: 10_000, quotas: [] };
  const active = (input: Partial<AlertInput>): string[] =>
    evaluateAlertRules({ ...quiet, ...input })
      .filter((c) => c.active)
      .map((c) => (c.resource ? `${c.kind}:${c.resource}` : c.kind));

  it("nothing fires for a healthy tenant", () => expect(active({})).toEqual([]));
  it("p99 above 80% of max_response_time fires latency_p99 (critical at or beyond it)", () => {
    expect(active({ p99Ms: 800 })).toEqual([]);
    expect(active({ p99Ms: 801 })).toEqual(["latency_p99"]);
    expect(evaluateAlertRules({ ...quiet, p99Ms: 1_000 }).find((c) => c.kind === "latency_p99")?.severity).toBe("critical");
  });
  it("error rate over the threshold fires error_rate", () => {
    expect(active({ errors: 50 })).toEqual([]);
    expect(active({ errors: 51 })).toEqual(["error_rate"]);
  });
  it("too few requests say nothing about latency or errors", () => {
    expect(active({ requests: defaultAlertConfig.minRequests - 1, errors: 19, p99Ms: 5_000 })).toEqual([]);
  });
  it("a quota over 90% used fires quota for that resource", () => {
    expect(active({ quotas: [{ resource: "users", used: 9, limit: 10 }, { resource: "storage", used: 91, limit: 100 }] })).toEqual(["quota:storage"]);
  });
  it("throttling fires when sustained: 3 consecutive windows each at or above 5%", () => {
    const w = (start: number, rate: number): { start: number; rate: number } => ({ start, rate });
    expect(active({ throttleWindows: [w(0, 0.1), w(10_000, 0.1), w(20_000, 0.05)] })).toEqual(["throttling"]);
    expect(active({ throttleWindows: [w(0, 0.1), w(10_000, 0.01), w(20_000, 0.1)] })).toEqual([]);
    expect(active({ throttleWindows: [w(0, 0.1), w(20_000, 0.1), w(30_000, 0.1)] }), "a gap breaks the run").toEqual([]);
    expect(active({ throttleWindows: [w(10_000, 0.5), w(20_000, 0.5)] }), "two windows are not sustained").toEqual([]);
  });
});

describe("alerts raise and clear with timestamps", () => {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  const clock = new ManualClock(t0);
  let tcp: TestControlPlane;
  let client: MonitorServiceClient;
  let tenantId: string;
  let token: string;

  const window = (start: number, latenciesMs: number[], errors = 0, throttled = 0) => scriptedWindow({ tenantId, start, latenciesMs, errors, throttled });
  const send = (windows: ReturnType<typeof window>[]) => report(client, bearer(token), [{ source: "p1", tenants: windows, clusters: [] }]);
  const openKinds = async (): Promise<string[]> => {
    const res = await rpc(client, client.listAlerts, { tenantId, includeCleared: false, pageSize: 50, pageToken: "" }, bearer(tcp.adminToken));
    return res.alerts.map((a) => (a.resource ? `${a.kind}:${a.resource}` : a.kind)).sort();
  };

  beforeAll(async () => {
    tcp = await startTestControlPlane({ clock });
    client = monitorClient(tcp.address);
    const tenants = tenantClient(tcp.address);
    tenantId = (await provision(tenants, tcp.adminToken, { planType: "free" })).tenant!.id;
    tenants.close();
    token = issueServiceToken(tcp.cp.secrets, "proxy", ["metrics:write"], { clock });
  });
  afterAll(async () => {
    client.close();
    await tcp?.close();
  });

  it("raises latency, error-rate, throttling and quota alerts at the evaluation time", async () => {
    // free plan: max_response_time 5,000 ms, max_users 3 (the admin is one)
    const slow = Array.from({ length: 40 }, (_, i) => (i < 30 ? 100 : 4_500));
    await send([window(t0 - 30_000, slow, 4, 4), window(t0 - 20_000, slow, 4, 4), window(t0 - 10_000, slow, 4, 4)]);
    await tcp.cp.db.asPlatform((trx) =>
      trx("users").insert([1, 2].map((n) => ({ tenant_id: tenantId, email: `extra${n}@example.test`, password_hash: "not-a-real-hash" }))),
    );
    const changes = await evaluateAlerts(tcp.cp.db, clock.now(), 60_000);
    expect(changes.raised.map((a) => (a.resource ? `${a.kind}:${a.resource}` : a.kind)).sort()).toEqual(["error_rate", "latency_p99", "quota:users", "throttling"]);
    expect(changes.raised.every((a) => a.raised_at.getTime() === t0 && a.cleared_at === null)).toBe(true);
    expect(await openKinds()).toEqual(["error_rate", "latency_p99", "quota:users", "throttling"]);
  });

  it("keeps one open alert per condition while it holds, updating its value", async () => {
    clock.advance(15_000);
    await send([window(t0, Array.from({ length: 40 }, () => 4_900), 4, 4)]);
    const changes = await evaluateAlerts(tcp.cp.db, clock.now(), 60_000);
    expect(changes).toEqual({ raised: [], cleared: [] });
    const res = await rpc(client, client.listAlerts, { tenantId, includeCleared: true, pageSize: 50, pageToken: "" }, bearer(tcp.adminToken));
    expect(res.alerts).toHaveLength(4);
    const latency = res.alerts.find((a) => a.kind === "latency_p99");
    expect(latency?.raisedAt?.getTime()).toBe(t0);
    expect(latency?.threshold).toBe(4_000);
    expect(latency?.value).toBeGreaterThan(4_800);
  });

  it("clears each alert when its condition ends, with the clearing time, and keeps it listed with include_cleared", async () => {
    clock.set(t0 + 5 * 60_000);
    const t1 = clock.now();
    await send([window(t1 - 30_000, Array(40).fill(50)), window(t1 - 20_000, Array(40).fill(50)), window(t1 - 10_000, Array(40).fill(50))]);
    await tcp.cp.db.asPlatform((trx) => trx("users").where({ tenant_id: tenantId }).where("email", "like", "extra%").delete());
    const changes = await evaluateAlerts(tcp.cp.db, t1, 60_000);
    expect(changes.raised).toEqual([]);
    expect(changes.cleared.map((a) => a.kind).sort()).toEqual(["error_rate", "latency_p99", "quota", "throttling"]);
    expect(await openKinds()).toEqual([]);
    const all = await rpc(client, client.listAlerts, { tenantId, includeCleared: true, pageSize: 2, pageToken: "" }, bearer(tcp.adminToken));
    expect(all.alerts).toHaveLength(2);
    const rest = await rpc(client, client.listAlerts, { tenantId, includeCleared: true, pageSize: 10, pageToken: all.nextPageToken }, bearer(tcp.adminToken));
    const alerts = [...all.alerts, ...rest.alerts];
    expect(alerts).toHaveLength(4);
    for (const a of alerts) {
      expect(a.raisedAt?.getTime()).toBe(t0);
      expect(a.clearedAt?.getTime()).toBe(t1);
    }
  });

  it("raises anew (a new alert) when a cleared condition returns", async () => {
    clock.advance(60_000);
    const t2 = clock.now();
    await send([window(t2 - 10_000, Array(40).fill(50), 20)]);
    const changes = await evaluateAlerts(tcp.cp.db, t2, 60_000);
    expect(changes.raised.map((a) => a.kind)).toEqual(["error_rate"]);
    expect(changes.raised[0]?.raised_at.getTime()).toBe(t2);
  });
});
