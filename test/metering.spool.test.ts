import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import type { QuotaStatus, RecordUsageRequest, RecordUsageResponse } from "../src/gen/tenantmesh/v1/quota.js";
import { silentLogger } from "../src/log/index.js";
import type { ProxyContext } from "../proxy/context.js";
import { GrpcUsageSink, UsageMeter, type UsageSink } from "../proxy/usage/index.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { provisionTenant, rollupTotals, usageWriterToken } from "./support/metering.js";

/**
 * The proxy's spool: counts survive a control-plane outage and a restart, replays (even of batches the control
 * plane had already applied) count once, and a full spool says what it dropped, in /metrics and at error level.
 */
let t: TestControlPlane;
let dir: string;
let tenantId: string;
const clock = new ManualClock(Date.now() - 60_000);

beforeAll(async () => {
  t = await startTestControlPlane();
  tenantId = (await provisionTenant(t)).tenant?.id ?? "";
  dir = mkdtempSync(path.join(os.tmpdir(), "tm-spool-"));
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A control plane that is down */
const downSink = (): UsageSink => ({
  recordUsage: (): Promise<RecordUsageResponse> => Promise.reject(Object.assign(new Error("unavailable"), { code: status.UNAVAILABLE, details: "connection refused" })),
  checkQuota: (): Promise<QuotaStatus> => Promise.reject(new Error("down")),
  close: () => undefined,
});
const liveSink = (): GrpcUsageSink => new GrpcUsageSink(t.address, usageWriterToken(t));

/** A finished, forwarded request of `tenant` that held a backend for `ms` */
function forwarded(tenant: string, ms: number): ProxyContext {
  return { tenant: { id: tenant }, backend: {}, route: {}, retryable: false, timings: { start: 0, picked: 1, end: 1 + ms, responseStart: 1 } } as unknown as ProxyContext;
}

function meterWith(sink: UsageSink, file: string, extra: Partial<ConstructorParameters<typeof UsageMeter>[0]> = {}): UsageMeter {
  return new UsageMeter({ sink, spoolFile: file, registry: new Registry(), clock, logger: silentLogger, source: "spool-test", flushIntervalMs: 60_000, ...extra });
}

describe("the usage spool", () => {
  it("keeps counts through an outage and a restart, and a replayed spool counts once", async () => {
    const file = path.join(dir, "outage.jsonl");
    const before = await rollupTotals(t, tenantId);
    const down = meterWith(downSink(), file);
    for (let i = 0; i < 40; i++) down.hook(forwarded(tenantId, 3), undefined);
    await down.flush();
    await down.close(); // the control plane is still down: the counts stay in the spool file
    expect(down.spooled.length).toBeGreaterThan(0);
    const crashCopy = path.join(dir, "outage.copy");
    copyFileSync(file, crashCopy);

    const restarted = meterWith(liveSink(), file);
    await restarted.flush();
    expect(restarted.spooled).toHaveLength(0);
    await restarted.close();
    // A crash between the control plane's commit and the spool's rewrite replays the same batches again.
    copyFileSync(crashCopy, file);
    const replayed = meterWith(liveSink(), file);
    await replayed.flush();
    expect(replayed.spooled).toHaveLength(0);
    expect((await replayed.metrics.batches.get()).values.find((v) => v.labels.result === "duplicate")?.value).toBeGreaterThan(0);
    await replayed.close();

    const after = await rollupTotals(t, tenantId);
    expect((after["month:api_calls"] ?? 0) - (before["month:api_calls"] ?? 0)).toBe(40);
    expect((after["month:compute"] ?? 0) - (before["month:compute"] ?? 0)).toBe(120);
  });

  it("is bounded: on overflow it drops the oldest batches, says what it dropped, counts it and raises the alert", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (s: string) => void lines.push(s) });
    const registry = new Registry();
    const meter = meterWith(downSink(), path.join(dir, "overflow.jsonl"), { spoolMaxBytes: 4_000, maxBatchEvents: 10, logger, registry });
    // Many tenants' hours: far more than 4 KB of spooled counts.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 30; i++) meter.hook(forwarded(`00000000-0000-4000-8000-${String(round * 100 + i).padStart(12, "0")}`, 2), undefined);
      await meter.flush();
    }
    const text = await registry.metrics();
    expect(text).toMatch(/tenantmesh_proxy_usage_spool_overflow 1/);
    expect(text).toMatch(/tenantmesh_proxy_usage_dropped_total\{resource="api_calls"\} [1-9]/);
    expect(text).toMatch(/tenantmesh_proxy_usage_dropped_batches_total [1-9]/);
    const alert = JSON.parse(lines[0] ?? "{}") as { level: number; alert: string; amounts: Record<string, number>; tenants: number; msg: string };
    expect(alert).toMatchObject({ level: 50, alert: "usage_dropped" });
    expect(alert.amounts.api_calls).toBeGreaterThan(0);
    expect(alert.msg).toContain("will not be billed");
    expect(readFileSync(path.join(dir, "overflow.jsonl")).length).toBeLessThanOrEqual(4_000);
    await meter.close();
  });

  it("does not bill the proxy's own refusals and counts connect failures nowhere", async () => {
    const sent: RecordUsageRequest[] = [];
    const sink: UsageSink = {
      recordUsage: (req) => (sent.push(req), Promise.resolve({ batchId: req.batchId, duplicate: false, acceptedEvents: req.events.length, quotas: [] })),
      checkQuota: () => Promise.reject(new Error("unused")),
      close: () => undefined,
    };
    const meter = meterWith(sink, path.join(dir, "kinds.jsonl"));
    const { TenantMeshError } = await import("../src/errors/index.js");
    const refused = { tenant: { id: tenantId }, timings: { start: 0, picked: 0, end: 1, responseStart: 0 } } as unknown as ProxyContext;
    meter.hook(refused, new TenantMeshError("TM_ERR_RATE_LIMITED", "slow down"));
    meter.hook(refused, new TenantMeshError("TM_ERR_MODULE_DISABLED", "no"));
    meter.hook({ ...forwarded(tenantId, 5), retryable: true } as ProxyContext, new TenantMeshError("TM_ERR_BAD_GATEWAY", "connect refused"));
    meter.hook(forwarded(tenantId, 5), new TenantMeshError("TM_ERR_DEADLINE_EXCEEDED", "backend too slow"));
    await meter.flush();
    const byType = Object.fromEntries(sent.flatMap((r) => r.events).map((e) => [e.resourceType, Number(e.amount)]));
    expect(byType).toEqual({ throttled_calls: 1, rejected_calls: 1, api_calls: 1, compute: 5 });
    await meter.close();
  });
});
