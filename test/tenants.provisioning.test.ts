import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKey } from "../src/auth/api-key.js";
import { verifyPassword } from "../src/auth/password.js";
import type { TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { planCatalogue } from "../src/plans/index.js";
import type { ProvisioningStep } from "../src/tenants/index.js";
import { bearer, failure, freshSlug, provision, provisionRequest, rowsOfTenant, rpc, startTenantsServer, tenantClient } from "../src/tenants/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

let tcp: TestControlPlane;
let client: TenantServiceClient;

beforeAll(async () => {
  tcp = await startTestControlPlane();
  client = tenantClient(tcp.address);
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

const nothingLeft = { tenants: 0, users: 0, api_keys: 0, tenant_events: 0, tenant_changes: 0 };

describe("ProvisionTenant", () => {
  it("runs every step: an active tenant on the default plan, its admin user, its first admin API key, one event", async () => {
    const res = await provision(client, tcp.adminToken, { adminPassword: "Str0ng-enough-pass" });
    const basic = planCatalogue.basic;
    expect(res.replayed).toBe(false);
    expect(res.tenant).toMatchObject({ status: "active", planType: "basic", apiRateLimit: basic.quotas.apiRateLimit, priorityLevel: basic.priorityLevel });
    expect(res.tenant?.enabledModules).toEqual(["classification", "risk_assessment"]);
    expect(res.tenant?.scale).toEqual({ current: basic.scale.initial, min: basic.scale.min, max: basic.scale.max });
    expect(res.adminUser).toMatchObject({ role: "admin", tenantId: res.tenant?.id });
    expect(res.adminPassword).toBe("");
    expect(parseApiKey(res.apiKey)?.keyId).toBe(res.apiKeyInfo?.keyId);
    expect(res.apiKeyInfo).toMatchObject({ role: "admin", tenantId: res.tenant?.id });

    const { rows, hash } = await tcp.cp.db.asPlatform(async (trx) => ({
      rows: await trx("tenant_events").where({ tenant_id: res.tenant?.id ?? "" }).select("event_type", "actor"),
      hash: ((await trx("users").where({ id: res.adminUser?.id ?? "" }).first("password_hash")) as { password_hash: string }).password_hash,
    }));
    expect(rows).toEqual([{ event_type: "provisioned", actor: "operator" }]);
    expect(await verifyPassword("Str0ng-enough-pass", hash)).toBe(true);
  });

  it("generates a strong admin password when none is given and returns it once", async () => {
    const res = await provision(client, tcp.adminToken, { planType: "free" });
    expect(res.adminPassword.length).toBeGreaterThanOrEqual(20);
    expect(res.tenant).toMatchObject({ planType: "free", enabledModules: ["classification"] });
    const hash = await tcp.cp.db.asPlatform(
      async (trx) => ((await trx("users").where({ id: res.adminUser?.id ?? "" }).first("password_hash")) as { password_hash: string }).password_hash,
    );
    expect(await verifyPassword(res.adminPassword, hash)).toBe(true);
  });

  it("refuses invalid requests with every offending field named", async () => {
    const f = await failure(
      provision(client, tcp.adminToken, { name: "", slug: "Bad_Slug", planType: "gold", adminEmail: "nope", adminPassword: "short", billingCycle: "weekly" }),
    );
    expect(f).toMatchObject({ code: status.INVALID_ARGUMENT, tmCode: "TM_ERR_INVALID_ARGUMENT" });
    for (const field of ["name", "slug", "plan_type", "admin_email", "admin_password", "billing_cycle"]) expect(f.details).toContain(`${field}:`);
  });

  it.each(["admin", "api", "www", "operator", "ab", "-abc", "abc-", `a${"b".repeat(63)}`])("refuses the slug %s", async (slug) => {
    expect(await failure(provision(client, tcp.adminToken, { slug }))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("refuses a duplicate slug with ALREADY_EXISTS", async () => {
    const slug = freshSlug();
    await provision(client, tcp.adminToken, { slug });
    const f = await failure(provision(client, tcp.adminToken, { slug }));
    expect(f).toMatchObject({ code: status.ALREADY_EXISTS, tmCode: "TM_ERR_ALREADY_EXISTS" });
  });

  it("is for operators only", async () => {
    const res = await provision(client, tcp.adminToken);
    expect(await failure(provision(client, res.apiKey))).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await failure(rpc(client, client.provisionTenant, provisionRequest(), bearer("tm_notavalidkey")))).toMatchObject({ code: status.UNAUTHENTICATED });
    const anonymous = new Promise((resolve, reject) => client.provisionTenant(provisionRequest(), (err, res) => (err ? reject(err) : resolve(res))));
    expect(await failure(anonymous)).toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe("ProvisionTenant idempotency", () => {
  it("returns the same tenant for a retried idempotency_key, replayed and without secrets", async () => {
    const req = { slug: freshSlug(), idempotencyKey: `idem-${freshSlug()}` };
    const first = await provision(client, tcp.adminToken, req);
    const again = await provision(client, tcp.adminToken, req);
    expect(again.replayed).toBe(true);
    expect(again.tenant?.id).toBe(first.tenant?.id);
    expect(again.adminUser?.id).toBe(first.adminUser?.id);
    expect(again.apiKeyInfo?.keyId).toBe(first.apiKeyInfo?.keyId);
    expect(again.apiKey).toBe("");
    expect(again.adminPassword).toBe("");
    expect((await rowsOfTenant(tcp.cp.db, { id: first.tenant?.id ?? "" })).users).toBe(1);
  });

  it("answers concurrent retries with one tenant", async () => {
    const req = { slug: freshSlug(), idempotencyKey: `idem-${freshSlug()}` };
    const results = await Promise.allSettled([provision(client, tcp.adminToken, req), provision(client, tcp.adminToken, req)]);
    const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => r.tenant?.id)).size).toBe(1);
    // A loser either replays the winner or is told to retry while the winner is still running.
    for (const r of results) if (r.status === "rejected") expect((r.reason as { code: number }).code).toBe(status.UNAVAILABLE);
    expect((await rowsOfTenant(tcp.cp.db, { slug: req.slug })).tenants).toBe(1);
  });

  it("refuses an idempotency_key reused for another slug", async () => {
    const idempotencyKey = `idem-${freshSlug()}`;
    await provision(client, tcp.adminToken, { idempotencyKey });
    expect(await failure(provision(client, tcp.adminToken, { idempotencyKey }))).toMatchObject({ code: status.FAILED_PRECONDITION });
  });
});

describe("ProvisionTenant rollback", () => {
  /** A step that records the tenant it saw and then fails */
  function failingStep(seen: string[]): ProvisioningStep {
    return {
      name: "failing-billing-account",
      async run(ctx) {
        seen.push(ctx.tenant?.id ?? "");
        throw new Error("billing provider down");
      },
    };
  }

  it("undoes every earlier step when a later step fails: nothing is left behind", async () => {
    const seen: string[] = [];
    const server = await startTenantsServer({ db: tcp.cp.db, config: tcp.config, secrets: tcp.cp.secrets }, { extraSteps: [failingStep(seen)] });
    try {
      const slug = freshSlug();
      const idempotencyKey = `idem-${slug}`;
      const f = await failure(provision(server.client, tcp.adminToken, { slug, idempotencyKey }));
      expect(f).toMatchObject({ code: status.INTERNAL, details: "internal error" });
      expect(seen).toHaveLength(1);
      expect(await rowsOfTenant(tcp.cp.db, { id: seen[0] ?? "" })).toEqual(nothingLeft);
      expect(await rowsOfTenant(tcp.cp.db, { slug })).toEqual(nothingLeft);
      // The slug and the idempotency key are free again.
      const retried = await provision(client, tcp.adminToken, { slug, idempotencyKey });
      expect(retried).toMatchObject({ replayed: false, tenant: { slug, status: "active" } });
    } finally {
      await server.close();
    }
  });

  it("rolls back when provisioning outlives its timeout", async () => {
    let tenantId = "";
    const slow: ProvisioningStep = {
      name: "slow-monitoring-setup",
      async run(ctx) {
        tenantId = ctx.tenant?.id ?? "";
        await new Promise((r) => setTimeout(r, 1_200));
      },
      async undo() {},
    };
    const server = await startTenantsServer(
      { db: tcp.cp.db, config: tcp.config, secrets: tcp.cp.secrets },
      // Generous enough that the steps before the slow one finish in time even on a loaded machine.
      { extraSteps: [slow], provisioning: { timeoutMs: 1_000 } },
    );
    try {
      const f = await failure(provision(server.client, tcp.adminToken));
      expect(f).toMatchObject({ code: status.DEADLINE_EXCEEDED, tmCode: "TM_ERR_DEADLINE_EXCEEDED" });
      expect(f.details).toContain("slow-monitoring-setup");
      expect(await rowsOfTenant(tcp.cp.db, { id: tenantId })).toEqual(nothingLeft);
    } finally {
      await server.close();
    }
  });
});
