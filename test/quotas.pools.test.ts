import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, failure, provisionTenant, quotaClient, rpc, setTenantColumns, usageWriterToken } from "./support/metering.js";

/**
 * Shared resource pools: the seed's AllocateResources semantics (tenant quota, pool availability, allocation per
 * tenant, available, utilization) plus release, and no parallel allocation ever oversubscribes a pool or a
 * tenant's quota.
 */
let t: TestControlPlane;
let quotas: QuotaServiceClient;
let service: ReturnType<typeof bearer>;

beforeAll(async () => {
  t = await startTestControlPlane();
  quotas = quotaClient(t.address);
  service = bearer(usageWriterToken(t));
  await rpc(quotas, quotas.getPool, { name: "database" }, service); // writes the configured capacities first
});
afterAll(async () => {
  quotas?.close();
  await t?.close();
});

const allocate = (tenantId: string, pool: string, amount: number) => rpc(quotas, quotas.allocateResources, { tenantId, pool, amount: String(amount) }, service);
const release = (tenantId: string, pool: string, amount: number) => rpc(quotas, quotas.releaseResources, { tenantId, pool, amount: String(amount) }, service);
const setCapacity = (pool: string, capacity: number) => t.testDb.db.asPlatform((trx) => trx("resource_pools").where({ name: pool }).update({ capacity }));

describe("resource pools", () => {
  it("30 parallel allocations from 5 tenants never take more than the pool holds", async () => {
    await setCapacity("cache", 10);
    const tenants: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = (await provisionTenant(t)).tenant?.id ?? "";
      await setTenantColumns(t, id, { cache_entries: 5 });
      tenants.push(id);
    }
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => allocate(tenants[i % 5] as string, "cache", 1)));
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(10);
    for (const r of results) if (r.status === "rejected") expect((r.reason as { code: number }).code).toBe(status.RESOURCE_EXHAUSTED);
    const pool = await rpc(quotas, quotas.getPool, { name: "cache" }, service);
    expect(pool).toMatchObject({ name: "cache", unit: "entries", totalCapacity: "10", allocated: "10", available: "0", utilization: 1 });
    expect(pool.tenants.reduce((n, a) => n + Number(a.allocated), 0)).toBe(10);
    for (const a of pool.tenants) expect(Number(a.allocated)).toBeLessThanOrEqual(5);
  });

  it("a tenant's parallel allocations stop at its own quota, naming it", async () => {
    const id = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? ""; // database_connections 5
    const results = await Promise.allSettled(Array.from({ length: 9 }, () => allocate(id, "database", 1)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: "quota database_connections exhausted: limit 5, used 5" });
    const check = await rpc(quotas, quotas.checkQuota, { tenantId: id, resourceType: "database", amount: "1" }, bearer(t.adminToken));
    expect(check).toMatchObject({ allowed: false, used: "5", limit: "5" });
  });

  it("says when the pool itself is exhausted, and release makes room again", async () => {
    await setCapacity("compute_slots", 1_000);
    const a = (await provisionTenant(t, { planType: "enterprise" })).tenant?.id ?? "";
    const b = (await provisionTenant(t, { planType: "enterprise" })).tenant?.id ?? "";
    const first = await allocate(a, "compute_slots", 800);
    expect(first).toMatchObject({ allocated: "800", tenantLimit: "16000", poolState: { available: "200", utilization: 0.8 } });
    const f = await failure(allocate(b, "compute_slots", 300));
    expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(f.details).toBe("pool compute_slots exhausted: capacity 1000, allocated 800, requested 300 (millicores)");
    const released = await release(a, "compute_slots", 500);
    expect(released).toMatchObject({ allocated: "300", poolState: { allocated: "300" } });
    await expect(allocate(b, "compute_slots", 300)).resolves.toMatchObject({ allocated: "300" });
    expect((await failure(release(b, "compute_slots", 301))).code).toBe(status.FAILED_PRECONDITION);
  });

  it("lists every pool, and is not for tenant principals", async () => {
    const list = await rpc(quotas, quotas.listPools, {}, bearer(t.adminToken));
    expect(list.pools.map((p) => p.name)).toEqual(["database", "cache", "compute_slots"]);
    const p = await provisionTenant(t);
    const tenantKey = bearer(p.apiKey);
    expect((await failure(rpc(quotas, quotas.allocateResources, { tenantId: p.tenant?.id ?? "", pool: "cache", amount: "1" }, tenantKey))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(rpc(quotas, quotas.getPool, { name: "cache" }, tenantKey))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(rpc(quotas, quotas.getPool, { name: "gpu" }, service))).code).toBe(status.INVALID_ARGUMENT);
  });
});
