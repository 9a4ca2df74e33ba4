import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { fieldCipher } from "../src/security/fields.js";
import { grpcFailure, signedMetadata, startTestKyb, type TestKyb } from "../src/kyb/testing.js";
import { newUserRequest, rpc as userRpc, userClient } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, failure, provisionTenant, quotaClient, rpc, setTenantColumns, settleUsage, usageBatch, usageEvent } from "./support/metering.js";

/**
 * Every quota goes through the one CheckQuota, at the point of use, and no race lets parallel creates exceed a
 * limit: stock quotas count rows under the tenant-row lock, flow quotas read the metering store.
 */
let t: TestControlPlane;
let users: UserServiceClient;
let quotas: QuotaServiceClient;
let kyb: TestKyb;
const PASSWORD = "correct-Horse-battery-9";

beforeAll(async () => {
  t = await startTestControlPlane();
  users = userClient(t.address);
  quotas = quotaClient(t.address);
  // The KYB backend seals with the control plane's keyring: the tenants it serves were provisioned there.
  kyb = await startTestKyb(t.testDb.db, { fields: fieldCipher(t.cp.security.keyring) });
});
afterAll(async () => {
  users?.close();
  quotas?.close();
  await kyb?.close();
  await t?.close();
});

const settled = async <T>(calls: Array<Promise<T>>): Promise<{ ok: T[]; failed: Array<{ code?: number; details?: string }> }> => {
  const results = await Promise.allSettled(calls);
  return {
    ok: results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])),
    failed: results.flatMap((r) => (r.status === "rejected" ? [r.reason as { code?: number; details?: string }] : [])),
  };
};

describe("stock quotas under parallel creates", () => {
  it("max_users: 12 parallel CreateUser calls on a tenant with room for 2 create exactly 2", async () => {
    const p = await provisionTenant(t);
    const tenantId = p.tenant?.id ?? "";
    await setTenantColumns(t, tenantId, { max_users: 3 }); // the provisioned admin is the first
    const { ok, failed } = await settled(Array.from({ length: 12 }, () => userRpc(users, users.createUser, newUserRequest({ tenantId }), bearer(t.adminToken))));
    expect(ok).toHaveLength(2);
    expect(failed).toHaveLength(10);
    for (const f of failed) expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: "quota max_users exhausted: limit 3, used 3" });
    const check = await rpc(quotas, quotas.checkQuota, { tenantId, resourceType: "users", amount: "1" }, bearer(t.adminToken));
    expect(check).toMatchObject({ quota: "max_users", allowed: false, limit: "3", used: "3", remaining: "0" });
  });

  it("max_businesses: 10 parallel KYB creates with room for 3 create exactly 3", async () => {
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    await setTenantColumns(t, tenantId, { max_businesses: 3 });
    const create = (i: number) => kyb.rpc.createBusiness({ name: `Race ${i}`, registrationNumber: "", country: "DE", details: undefined }, signedMetadata(kyb.secret, tenantId));
    const { ok, failed } = await settled(Array.from({ length: 10 }, (_, i) => create(i)));
    expect(ok).toHaveLength(3);
    for (const f of failed) expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: "quota max_businesses exhausted: limit 3, used 3" });
  });

  it("concurrent_users: 8 parallel sign-ins with room for 2 sessions open exactly 2", async () => {
    const p = await provisionTenant(t, { adminPassword: PASSWORD });
    await setTenantColumns(t, p.tenant?.id ?? "", { concurrent_users: 2 });
    const signIn = () => userRpc(users, users.authenticate, { tenantSlug: p.tenant?.slug ?? "", email: p.adminUser?.email ?? "", password: PASSWORD, totpCode: "" });
    const { ok, failed } = await settled(Array.from({ length: 8 }, signIn));
    expect(ok).toHaveLength(2);
    for (const f of failed) expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: "quota concurrent_users exhausted: limit 2, used 2" });
  });
});

describe("flow quotas read the metering store", () => {
  it("storage_quota_gb: parallel KYB creates near the limit take exactly what fits, and storage is recorded", async () => {
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    await setTenantColumns(t, tenantId, { storage_quota_gb: 1 });
    const create = (i: number) => kyb.rpc.createBusiness({ name: `Storage ${i}`, registrationNumber: "", country: "DE", details: undefined }, signedMetadata(kyb.secret, tenantId));
    const first = await create(0);
    const usage = await rpc(quotas, quotas.getUsage, { tenantId, resourceType: "storage", granularity: "month", start: undefined, end: undefined }, bearer(t.adminToken));
    const size = Number(usage.totals.storage);
    expect(size).toBeGreaterThan(20);
    // Leave room for exactly two more businesses of the same size.
    await rpc(quotas, quotas.recordUsage, usageBatch([usageEvent(tenantId, "storage", 1_000_000_000 - 3 * size, new Date())]), bearer(t.adminToken));
    await settleUsage(t); // acknowledged usage reaches the rollups within the roll-up delay; the KYB check reads those
    const { ok, failed } = await settled(Array.from({ length: 6 }, (_, i) => create(i + 1)));
    expect(ok).toHaveLength(2);
    for (const f of failed) expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(failed[0]?.details).toBe(`quota storage_quota_gb exhausted: limit 1000000000, used 1000000000 (bytes)`);
    expect(first.id).toBeTruthy();
  });

  it("compute_quota_hours: CheckQuota counts this month's backend milliseconds", async () => {
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    await setTenantColumns(t, tenantId, { compute_quota_hours: 2 });
    await rpc(quotas, quotas.recordUsage, usageBatch([usageEvent(tenantId, "compute", 7_000_000, new Date())]), bearer(t.adminToken));
    const fits = await rpc(quotas, quotas.checkQuota, { tenantId, resourceType: "compute", amount: "200000" }, bearer(t.adminToken));
    expect(fits).toMatchObject({ quota: "compute_quota_hours", unit: "ms", allowed: true, limit: "7200000", used: "7000000", remaining: "200000" });
    const over = await rpc(quotas, quotas.checkQuota, { tenantId, resourceType: "compute", amount: "200001" }, bearer(t.adminToken));
    expect(over.allowed).toBe(false);
    expect(over.periodStart?.getUTCDate()).toBe(1);
  });

  it("monthly API calls are capped only where the plan caps them", async () => {
    const free = (await provisionTenant(t, { planType: "free" })).tenant?.id ?? "";
    const basic = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
    const freeCap = await rpc(quotas, quotas.checkQuota, { tenantId: free, resourceType: "api_calls", amount: "0" }, bearer(t.adminToken));
    const basicCap = await rpc(quotas, quotas.checkQuota, { tenantId: basic, resourceType: "api_calls", amount: "0" }, bearer(t.adminToken));
    expect(freeCap).toMatchObject({ quota: "monthly_api_calls", limited: true, limit: "10000" });
    expect(basicCap).toMatchObject({ limited: false, allowed: true });
  });

  it("CheckQuota names an unknown resource type as INVALID_ARGUMENT", async () => {
    const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
    const f = await failure(rpc(quotas, quotas.checkQuota, { tenantId, resourceType: "bananas", amount: "1" }, bearer(t.adminToken)));
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain("resource_type");
  });
});

it("keeps the KYB grpcFailure helper honest (a refused create is RESOURCE_EXHAUSTED / TM_ERR_QUOTA_EXCEEDED)", async () => {
  const tenantId = (await provisionTenant(t)).tenant?.id ?? "";
  await setTenantColumns(t, tenantId, { max_businesses: 0 });
  const f = await grpcFailure(kyb.rpc.createBusiness({ name: "None", registrationNumber: "", country: "DE", details: undefined }, signedMetadata(kyb.secret, tenantId)));
  expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, tmCode: "TM_ERR_QUOTA_EXCEEDED" });
});
