import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { decide, defaultScalingConfig, KubernetesDeploymentExecutor, runExecutor, targetScale, type ScalingExecutor, type TenantScaler } from "../src/scaling/index.js";

/**
 * The seed's TenantScaler rules, table-driven with an injected clock: thresholds (80% up, 20% down),
 * cooldowns (2 min up, 5 min down, from the last scaling), step limits (+50% / −25%, at least one unit) and
 * bounds (never past the plan's min and max).
 */
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

interface Row {
  name: string;
  scale: [current: number, min: number, max: number];
  utilization: number;
  /** How long ago the tenant last scaled (undefined: never) */
  lastScaledAgoMs?: number;
  expect: { action: "none" | "up" | "down"; to?: number; reason?: RegExp };
}

const table: Row[] = [
  // Thresholds: strictly above 80% scales up, strictly below 20% down, the band in between holds.
  { name: "in the band holds", scale: [4, 1, 8], utilization: 0.5, expect: { action: "none", reason: /within/ } },
  { name: "exactly 80% holds", scale: [4, 1, 8], utilization: 0.8, expect: { action: "none" } },
  { name: "exactly 20% holds", scale: [4, 1, 8], utilization: 0.2, expect: { action: "none" } },
  { name: "just above 80% scales up by one", scale: [4, 1, 8], utilization: 0.81, expect: { action: "up", to: 5 } },
  { name: "just below 20% scales down by one", scale: [4, 1, 8], utilization: 0.19, expect: { action: "down", to: 3 } },
  // Step limits: +50% of current at most (rounded down), yet at least one unit.
  { name: "heavy load: +50% of 4 is 2", scale: [4, 1, 100], utilization: 3, expect: { action: "up", to: 6 } },
  { name: "heavy load: +50% of 5 is 2 (rounded down)", scale: [5, 1, 100], utilization: 3, expect: { action: "up", to: 7 } },
  { name: "scale 1: +50% rounds to 0, moves 1", scale: [1, 1, 8], utilization: 5, expect: { action: "up", to: 2 } },
  { name: "the target caps the step: 4 at 90% wants 5", scale: [4, 1, 8], utilization: 0.9, expect: { action: "up", to: 5 } },
  { name: "idle: −25% of 8 is 2", scale: [8, 1, 8], utilization: 0, expect: { action: "down", to: 6 } },
  { name: "idle: −25% of 3 rounds to 0, moves 1", scale: [3, 1, 8], utilization: 0.01, expect: { action: "down", to: 2 } },
  { name: "idle: −25% of 10 is 2 (rounded down)", scale: [10, 1, 10], utilization: 0, expect: { action: "down", to: 8 } },
  // Bounds by plan.
  { name: "never past max", scale: [7, 1, 8], utilization: 5, expect: { action: "up", to: 8 } },
  { name: "at max: no scale-up", scale: [8, 1, 8], utilization: 5, expect: { action: "none", reason: /maximum/ } },
  { name: "never past min", scale: [3, 3, 8], utilization: 0, expect: { action: "none", reason: /minimum/ } },
  { name: "down stops at min", scale: [4, 3, 8], utilization: 0, expect: { action: "down", to: 3 } },
  { name: "min = max: nothing to do", scale: [1, 1, 1], utilization: 10, expect: { action: "none" } },
  // Cooldowns, from the last scaling in either direction.
  { name: "scale-up within 2 min of the last scaling waits", scale: [4, 1, 8], utilization: 0.95, lastScaledAgoMs: 2 * MIN - 1, expect: { action: "none", reason: /scale-up cooling down \(1 s left\)/ } },
  { name: "scale-up at 2 min goes", scale: [4, 1, 8], utilization: 0.95, lastScaledAgoMs: 2 * MIN, expect: { action: "up", to: 5 } },
  { name: "scale-down within 5 min waits", scale: [4, 1, 8], utilization: 0.05, lastScaledAgoMs: 5 * MIN - 1_000, expect: { action: "none", reason: /scale-down cooling down/ } },
  { name: "scale-down at 3 min still waits (5 min cooldown)", scale: [4, 1, 8], utilization: 0.05, lastScaledAgoMs: 3 * MIN, expect: { action: "none" } },
  { name: "scale-down at 5 min goes", scale: [4, 1, 8], utilization: 0.05, lastScaledAgoMs: 5 * MIN, expect: { action: "down", to: 3 } },
  { name: "never scaled: no cooldown", scale: [2, 1, 4], utilization: 0.99, expect: { action: "up", to: 3 } },
];

describe("TenantScaler decisions (table-driven, ManualClock)", () => {
  it.each(table)("$name", (row) => {
    const clock = new ManualClock(T0);
    const lastScalingAt = row.lastScaledAgoMs === undefined ? undefined : clock.now() - row.lastScaledAgoMs;
    const scaler: TenantScaler = { tenantId: "t", currentScale: row.scale[0], minScale: row.scale[1], maxScale: row.scale[2], lastScalingAt };
    const d = decide(scaler, row.utilization, clock.now());
    expect(d.action).toBe(row.expect.action);
    if (d.action !== "none") {
      expect(d.from).toBe(row.scale[0]);
      expect(d.to).toBe(row.expect.to);
      // Invariants of every step: at least one unit, within the limits and bounds
      const moved = Math.abs(d.to - d.from);
      expect(moved).toBeGreaterThanOrEqual(1);
      expect(d.to).toBeGreaterThanOrEqual(row.scale[1]);
      expect(d.to).toBeLessThanOrEqual(row.scale[2]);
      const limit = d.action === "up" ? Math.max(1, Math.floor(d.from * 0.5)) : Math.max(1, Math.floor(d.from * 0.25));
      expect(moved).toBeLessThanOrEqual(limit);
    }
    if (row.expect.reason) expect(d.reason).toMatch(row.expect.reason);
  });

  it("moving the clock through a cooldown changes the decision, and nothing else does", () => {
    const clock = new ManualClock(T0);
    let scaler: TenantScaler = { tenantId: "t", currentScale: 2, minScale: 1, maxScale: 8, lastScalingAt: undefined };
    const first = decide(scaler, 0.9, clock.now());
    expect(first).toMatchObject({ action: "up", from: 2, to: 3 });
    scaler = { ...scaler, currentScale: 3, lastScalingAt: clock.now() };
    clock.advance(MIN);
    expect(decide(scaler, 0.9, clock.now()).action).toBe("none");
    clock.advance(MIN);
    expect(decide(scaler, 0.9, clock.now())).toMatchObject({ action: "up", from: 3, to: 4 });
  });

  it("targets the scale that brings utilization back to 80%, within bounds", () => {
    const s: TenantScaler = { tenantId: "t", currentScale: 4, minScale: 2, maxScale: 10, lastScalingAt: undefined };
    expect(targetScale(s, 1.6)).toBe(8);
    expect(targetScale(s, 4)).toBe(10);
    expect(targetScale(s, 0.1)).toBe(2);
    expect(targetScale(s, 0.8)).toBe(4);
    expect(defaultScalingConfig).toMatchObject({ scaleUpCooldownMs: 120_000, scaleDownCooldownMs: 300_000, scaleUpThreshold: 0.8, scaleDownThreshold: 0.2, maxScaleUpRate: 0.5, maxScaleDownRate: 0.25 });
  });
});

describe("executors", () => {
  it("the Kubernetes executor patches the Deployment's scale subresource", async () => {
    const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        const ok = req.url?.includes("tenant-acme") === true;
        res.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
        res.end(ok ? JSON.stringify({ kind: "Scale", spec: { replicas: 6 } }) : '{"reason":"NotFound"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const executor = new KubernetesDeploymentExecutor({ apiServer: `http://127.0.0.1:${port}`, token: "k8s-token", namespace: "tenants", replicasPerUnit: 2 });
      const ok = await executor.apply({ tenantId: "id", slug: "acme", direction: "up", from: 2, to: 3 });
      expect(ok).toEqual({ executor: "kubernetes-deployment", ok: true, detail: "deployment tenants/tenant-acme → 6 replicas" });
      expect(seen[0]).toMatchObject({ method: "PATCH", url: "/apis/apps/v1/namespaces/tenants/deployments/tenant-acme/scale", body: '{"spec":{"replicas":6}}' });
      expect(seen[0]?.headers).toMatchObject({ authorization: "Bearer k8s-token", "content-type": "application/merge-patch+json" });
      const missing = await executor.apply({ tenantId: "id", slug: "globex", direction: "down", from: 2, to: 1 });
      expect(missing).toMatchObject({ ok: false, detail: expect.stringContaining("HTTP 404") });
    } finally {
      server.close();
    }
  });

  it("an executor that throws becomes a failed outcome, not a lost decision", async () => {
    const broken: ScalingExecutor = { name: "broken", apply: () => Promise.reject(new Error("boom")) };
    expect(await runExecutor(broken, { tenantId: "t", slug: "t", direction: "up", from: 1, to: 2 })).toEqual({ executor: "broken", ok: false, detail: "boom" });
  });
});
