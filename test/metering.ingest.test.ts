import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import { silentLogger } from "../src/log/index.js";
import { encodeEvents } from "../src/metering/codec.js";
import { UsageRoller, validateBatch } from "../src/metering/index.js";
import type { ProvisionTenantResponse } from "../src/gen/tenantmesh/v1/tenant.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, failure, provisionTenant, quotaClient, rollupTotals, rpc, usageBatch, usageEvent, usageWriterToken } from "./support/metering.js";

/**
 * RecordUsage over a real socket: a batch counts at most once whatever is replayed, is validated whole and
 * applied atomically, and rolls up into hour, day and month rows that each equal the events.
 */
let t: TestControlPlane;
let quotas: QuotaServiceClient;
let tenant: ProvisionTenantResponse;
let md: ReturnType<typeof bearer>;
const HOUR = 3_600_000;
const lastMonth = (): Date => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 28, 23, 30));
};

beforeAll(async () => {
  t = await startTestControlPlane();
  quotas = quotaClient(t.address);
  tenant = await provisionTenant(t);
  md = bearer(usageWriterToken(t));
});
afterAll(async () => {
  quotas?.close();
  await t?.close();
});

const record = (req: Parameters<typeof usageBatch>[0], batchId?: string) => rpc(quotas, quotas.recordUsage, usageBatch(req, batchId), md);
const id = (): string => tenant.tenant?.id ?? "";

describe("RecordUsage", () => {
  it("counts a batch sent twice once, and says the second was a duplicate", async () => {
    const at = new Date(Date.now() - 60_000);
    const events = [usageEvent(id(), "api_calls", 3, at), usageEvent(id(), "compute", 250, at)];
    const before = await rollupTotals(t, id());
    const first = await record(events, "dup-batch-1");
    const second = await record(events, "dup-batch-1");
    expect(first).toMatchObject({ duplicate: false, acceptedEvents: 2 });
    expect(second).toMatchObject({ duplicate: true, acceptedEvents: 0 });
    const after = await rollupTotals(t, id());
    for (const g of ["hour", "day", "month"]) {
      expect((after[`${g}:api_calls`] ?? 0) - (before[`${g}:api_calls`] ?? 0)).toBe(3);
      expect((after[`${g}:compute`] ?? 0) - (before[`${g}:compute`] ?? 0)).toBe(250);
    }
  });

  it("counts a batch replayed ten times in parallel once", async () => {
    const before = await rollupTotals(t, id());
    const events = [usageEvent(id(), "api_calls", 5, new Date(Date.now() - 1_000))];
    const results = await Promise.all(Array.from({ length: 10 }, () => record(events, "parallel-replay")));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const after = await rollupTotals(t, id());
    expect((after["month:api_calls"] ?? 0) - (before["month:api_calls"] ?? 0)).toBe(5);
  });

  it("rejects the whole batch with INVALID_ARGUMENT naming each bad event, and applies none of it", async () => {
    const before = await rollupTotals(t, id());
    const now = Date.now();
    const f = await failure(
      record([
        usageEvent(id(), "api_calls", 1, new Date(now)),
        usageEvent(id(), "api_calls", -4, new Date(now)),
        usageEvent(id(), "bandwidth", 1, new Date(now)),
        usageEvent(id(), "compute", 1, new Date(now + 6 * 60_000)),
      ]),
    );
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain("events[1].amount: must not be negative");
    expect(f.details).toContain("events[2].resource_type");
    expect(f.details).toContain("events[3].occurred_at: is more than 5 minutes in the future");
    expect(f.details).not.toContain("events[0]");
    expect(await rollupTotals(t, id())).toEqual(before);
  });

  it("accepts an event stamped up to 5 minutes ahead (clock skew)", async () => {
    await expect(record([usageEvent(id(), "api_calls", 1, new Date(Date.now() + 4 * 60_000))])).resolves.toMatchObject({ acceptedEvents: 1 });
  });

  it("rejects a batch naming an unknown tenant, naming the event", async () => {
    const f = await failure(record([usageEvent(id(), "api_calls", 1, new Date()), usageEvent("00000000-0000-4000-8000-000000000000", "api_calls", 1, new Date())]));
    expect(f).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(f.details).toContain("events[1].tenant_id");
  });

  it("refuses a batch id reused for other events", async () => {
    await record([usageEvent(id(), "api_calls", 1, new Date())], "reused-id");
    const f = await failure(record([usageEvent(id(), "api_calls", 2, new Date())], "reused-id"));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION, tmCode: "TM_ERR_FAILED_PRECONDITION" });
  });

  it("rolls events up per hour, day and month across boundaries", async () => {
    const other = await provisionTenant(t);
    const tid = other.tenant?.id ?? "";
    const base = lastMonth(); // the 28th of last month, 23:30 UTC
    await record([
      usageEvent(tid, "compute", 10, base),
      usageEvent(tid, "compute", 20, new Date(base.getTime() + HOUR)), // next hour, next day
      usageEvent(tid, "compute", 40, new Date(base.getTime() + 5 * 24 * HOUR)), // this month or later
    ]);
    const usage = await rpc(quotas, quotas.getUsage, { tenantId: tid, resourceType: "compute", granularity: "hour", start: new Date(base.getTime() - HOUR), end: new Date(base.getTime() + 2 * HOUR) }, bearer(t.adminToken));
    expect(usage.points.map((p) => Number(p.amount))).toEqual([10, 20]);
    const days = await rpc(quotas, quotas.getUsage, { tenantId: tid, resourceType: "compute", granularity: "day", start: new Date(base.getTime() - 24 * HOUR), end: new Date(base.getTime() + 6 * 24 * HOUR) }, bearer(t.adminToken));
    expect(days.points.map((p) => Number(p.amount))).toEqual([10, 20, 40]);
    expect(days.totals).toEqual({ compute: "70" });
    const totals = await rollupTotals(t, tid);
    expect(totals).toMatchObject({ "hour:compute": 70, "day:compute": 70, "month:compute": 70 });
  });

  it("rolls up a batch a crashed process journaled but never rolled up, exactly once", async () => {
    const before = await rollupTotals(t, id());
    const wire = [usageEvent(id(), "api_calls", 9, new Date())];
    const batch = validateBatch({ batchId: "crashed-before-rollup", source: "test", events: wire }, Date.now());
    // What a process leaves when it dies between acknowledging a batch and rolling it up.
    await t.testDb.db.asPlatform((trx) =>
      trx("usage_batches").insert({ batch_id: batch.batchId, digest: batch.digest, source: "test", event_count: 1, payload: encodeEvents(batch.events) }),
    );
    const other = new UsageRoller({ db: t.testDb.db, logger: silentLogger });
    expect(await other.recover(0)).toBeGreaterThanOrEqual(1);
    await other.settle();
    await new UsageRoller({ db: t.testDb.db, logger: silentLogger }).recover(0); // finds nothing left to do
    const after = await rollupTotals(t, id());
    expect((after["month:api_calls"] ?? 0) - (before["month:api_calls"] ?? 0)).toBe(9);
    // The sender's replay of it is recognised.
    expect(await record(wire, "crashed-before-rollup")).toMatchObject({ duplicate: true, acceptedEvents: 0 });
  });

  it("is for services with usage:write and operators only", async () => {
    const watchOnly = bearer(usageWriterToken(t, ["tenants:watch"]));
    const req = usageBatch([usageEvent(id(), "api_calls", 1, new Date())]);
    expect((await failure(rpc(quotas, quotas.recordUsage, req, watchOnly))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(rpc(quotas, quotas.recordUsage, req, bearer(tenant.apiKey)))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(rpc(quotas, quotas.recordUsage, req, new Metadata()))).code).toBe(status.UNAUTHENTICATED);
    await expect(rpc(quotas, quotas.recordUsage, req, bearer(t.adminToken))).resolves.toMatchObject({ acceptedEvents: 1 });
  });

  it("answers the month's API-call and compute quotas of the batch's tenants when asked", async () => {
    const res = await rpc(quotas, quotas.recordUsage, { ...usageBatch([usageEvent(id(), "api_calls", 1, new Date())]), returnQuotas: true }, md);
    expect(res.quotas.map((q) => q.resourceType).sort()).toEqual(["api_calls", "compute"]);
    const compute = res.quotas.find((q) => q.resourceType === "compute");
    expect(compute).toMatchObject({ tenantId: id(), quota: "compute_quota_hours", unit: "ms", limited: true });
  });
});
