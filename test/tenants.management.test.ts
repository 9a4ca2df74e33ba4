import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tenant, type ProvisionTenantResponse, type TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { planCatalogue } from "../src/plans/index.js";
import { bearer, failure, freshSlug, provision, rpc, tenantClient } from "../src/tenants/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

let tcp: TestControlPlane;
let client: TenantServiceClient;
let op: ReturnType<typeof bearer>;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  client = tenantClient(tcp.address);
  op = bearer(tcp.adminToken);
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

const get = (req: { id?: string; slug?: string }, token = tcp.adminToken) => rpc(client, client.getTenant, req, bearer(token));
const update = (tenant: Partial<Tenant> & { id: string }, paths: string[], token = tcp.adminToken) =>
  rpc(client, client.updateTenant, { tenant: Tenant.fromPartial(tenant), updateMask: paths }, bearer(token));
const lifecycle = (m: "suspendTenant" | "reactivateTenant" | "cancelTenant", id: string, reason = "") =>
  rpc(client, client[m], { id, reason }, op);
const events = (tenantId: string) =>
  tcp.cp.db.asPlatform((trx) => trx("tenant_events").where({ tenant_id: tenantId }).orderBy("created_at").select("event_type", "actor", "detail"));

describe("GetTenant", () => {
  let t: ProvisionTenantResponse;
  beforeAll(async () => {
    t = await provision(client, tcp.adminToken);
  });

  it("finds a tenant by id and by slug (operator) and its own tenant for a tenant key", async () => {
    const id = t.tenant?.id ?? "";
    expect((await get({ id })).slug).toBe(t.tenant?.slug);
    expect((await get({ slug: t.tenant?.slug ?? "" })).id).toBe(id);
    expect((await get({ id }, t.apiKey)).id).toBe(id);
    expect((await get({}, t.apiKey)).id).toBe(id);
  });

  it("answers NOT_FOUND to an operator for an unknown id or slug, INVALID_ARGUMENT for a malformed id or none", async () => {
    expect(await failure(get({ id: "00000000-0000-4000-8000-000000000000" }))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(get({ slug: "no-such-tenant" }))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(get({ id: "not-a-uuid" }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(get({}))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe("ListTenants", () => {
  const slugs: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const r = await provision(client, tcp.adminToken, { slug: freshSlug("list"), planType: i % 2 === 0 ? "professional" : "free" });
      slugs.push(r.tenant?.slug ?? "");
    }
  });

  it("pages through every tenant in creation order with opaque tokens, each tenant once", async () => {
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await rpc(client, client.listTenants, { pageSize: 2, pageToken, status: "", planType: "" }, op);
      expect(page.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...page.tenants.map((t) => t.slug));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((s) => slugs.includes(s))).toEqual(slugs);
  });

  it("filters by plan and status", async () => {
    const pro = await rpc(client, client.listTenants, { pageSize: 500, pageToken: "", status: "active", planType: "professional" }, op);
    expect(pro.tenants.length).toBeGreaterThanOrEqual(3);
    expect(pro.tenants.every((t) => t.planType === "professional" && t.status === "active")).toBe(true);
  });

  it("defaults the page size to 50 and caps it at 500", async () => {
    const page = await rpc(client, client.listTenants, { pageSize: 0, pageToken: "", status: "", planType: "" }, op);
    expect(page.tenants.length).toBeLessThanOrEqual(50);
    const big = await rpc(client, client.listTenants, { pageSize: 100_000, pageToken: "", status: "", planType: "" }, op);
    expect(big.tenants.length).toBeLessThanOrEqual(500);
  });

  it("refuses a bad page token, a token of other filters, bad filters and a negative size", async () => {
    const first = await rpc(client, client.listTenants, { pageSize: 1, pageToken: "", status: "", planType: "" }, op);
    const bad = [
      { pageSize: 1, pageToken: "garbage!", status: "", planType: "" },
      { pageSize: 1, pageToken: first.nextPageToken, status: "active", planType: "" },
      { pageSize: 1, pageToken: "", status: "sleeping", planType: "" },
      { pageSize: 1, pageToken: "", status: "", planType: "gold" },
      { pageSize: -1, pageToken: "", status: "", planType: "" },
    ];
    for (const req of bad) expect(await failure(rpc(client, client.listTenants, req, op))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe("UpdateTenant", () => {
  let t: ProvisionTenantResponse;
  let id: string;
  beforeAll(async () => {
    t = await provision(client, tcp.adminToken, { planType: "basic" });
    id = t.tenant?.id ?? "";
  });

  it("lets a tenant admin change the safe fields, validating IPv4 and IPv6 CIDR blocks", async () => {
    const res = await update(
      { id, name: "Renamed", billingInfo: { vat: "DE123" }, billingCycle: "annual", networkRestrictions: ["10.0.0.0/8", "2001:DB8::/32", "192.0.2.7"] },
      ["name", "billing_info", "billing_cycle", "network_restrictions"],
      t.apiKey,
    );
    expect(res).toMatchObject({ name: "Renamed", billingInfo: { vat: "DE123" }, billingCycle: "annual" });
    expect(res.networkRestrictions).toEqual(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]);
    for (const bad of ["10.0.0.0/33", "2001:db8::/129", "not-an-ip", "10.0.0/8", "::1/-1"]) {
      const f = await failure(update({ id, networkRestrictions: [bad] }, ["network_restrictions"], t.apiKey));
      expect(f).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(f.details).toContain("tenant.network_restrictions");
    }
  });

  it.each(["plan_type", "api_rate_limit", "priority_level", "status", "features", "performance_quota", "scale.max"])(
    "refuses %s to a tenant admin with PERMISSION_DENIED",
    async (path) => {
      expect(await failure(update({ id, planType: "enterprise", apiRateLimit: 1, priorityLevel: 10, status: "active" }, [path], t.apiKey))).toMatchObject({
        code: status.PERMISSION_DENIED,
      });
    },
  );

  it("refuses unknown, immutable and lifecycle paths, an empty mask and bad values with INVALID_ARGUMENT", async () => {
    for (const paths of [["nickname"], ["slug"], ["id"], [], ["status"]]) {
      expect(await failure(update({ id }, paths))).toMatchObject({ code: status.INVALID_ARGUMENT });
    }
    expect(await failure(update({ id, priorityLevel: 11 }, ["priority_level"]))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(update({ id, planType: "gold" }, ["plan_type"]))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(update({ id, scale: { current: 9, min: 1, max: 2 } }, ["scale"]))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(update({ id, features: { teleport: true } }, ["features"]))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("re-derives quotas, tier, priority, features, modules and scale bounds from the catalogue on a plan change", async () => {
    const ent = planCatalogue.enterprise;
    const up = await update({ id, planType: "enterprise" }, ["plan_type"]);
    expect(up).toMatchObject({
      planType: "enterprise",
      apiRateLimit: ent.quotas.apiRateLimit,
      burst: ent.quotas.burst,
      maxUsers: ent.quotas.maxUsers,
      concurrentUsers: ent.quotas.concurrentUsers,
      performanceTier: ent.performanceTier,
      priorityLevel: ent.priorityLevel,
      features: ent.features,
      enabledModules: [...ent.enabledModules],
      performanceQuota: ent.performance,
      scale: { current: ent.scale.min, min: ent.scale.min, max: ent.scale.max },
    });
    const free = planCatalogue.free;
    const down = await update({ id, planType: "free", apiRateLimit: 90 }, ["plan_type", "api_rate_limit"]);
    expect(down).toMatchObject({ planType: "free", apiRateLimit: 90, maxUsers: free.quotas.maxUsers, priorityLevel: free.priorityLevel, enabledModules: ["classification"] });
    expect(down.scale).toEqual({ current: 1, min: 1, max: 1 });
    const types = (await events(id)).map((e) => e.event_type);
    expect(types.filter((e) => e === "plan_changed")).toHaveLength(2);
  });

  it("refuses changes to a cancelled tenant with FAILED_PRECONDITION", async () => {
    const c = await provision(client, tcp.adminToken);
    await lifecycle("cancelTenant", c.tenant?.id ?? "");
    expect(await failure(update({ id: c.tenant?.id ?? "", name: "x" }, ["name"]))).toMatchObject({ code: status.FAILED_PRECONDITION });
  });
});

describe("Suspend, Reactivate, Cancel", () => {
  it("walks the lifecycle active → suspended → active → suspended → cancelled, recording each move with its actor", async () => {
    const t = await provision(client, tcp.adminToken);
    const id = t.tenant?.id ?? "";
    expect((await lifecycle("suspendTenant", id, "unpaid invoice")).status).toBe("suspended");
    expect((await lifecycle("reactivateTenant", id)).status).toBe("active");
    await lifecycle("suspendTenant", id);
    const cancelled = await lifecycle("cancelTenant", id, "customer left");
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.deletedAt).toBeInstanceOf(Date);
    expect(cancelled.dataRetentionDays).toBe(2555);
    const ev = await events(id);
    expect(ev.map((e) => e.event_type)).toEqual(["provisioned", "suspended", "reactivated", "suspended", "cancelled"]);
    expect(ev.every((e) => e.actor === "operator")).toBe(true);
    expect(ev[1]?.detail).toEqual({ from: "active", to: "suspended", reason: "unpaid invoice" });
    // Soft delete: the rows are kept.
    expect((await get({ id })).status).toBe("cancelled");
  });

  it("refuses impossible moves with FAILED_PRECONDITION and a clear message", async () => {
    const t = await provision(client, tcp.adminToken);
    const id = t.tenant?.id ?? "";
    const f = await failure(lifecycle("reactivateTenant", id));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(f.details).toBe("cannot reactivate a tenant that is active: reactivate needs status suspended");
    await lifecycle("cancelTenant", id);
    expect(await failure(lifecycle("reactivateTenant", id))).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(await failure(lifecycle("suspendTenant", id))).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(await failure(lifecycle("cancelTenant", id))).toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it("answers NOT_FOUND for an unknown tenant and INVALID_ARGUMENT for a malformed id", async () => {
    expect(await failure(lifecycle("suspendTenant", "00000000-0000-4000-8000-000000000000"))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(lifecycle("suspendTenant", "nope"))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("is for operators only", async () => {
    const t = await provision(client, tcp.adminToken);
    const f = await failure(rpc(client, client.suspendTenant, { id: t.tenant?.id ?? "", reason: "" }, bearer(t.apiKey)));
    expect(f).toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
