/**
 * The tenants of the isolation benchmark, provisioned through the real control plane (ProvisionTenant, then
 * UpdateTenant as the operator for the quotas a scenario needs) and each given one business to read.
 */
import { Metadata } from "@grpc/grpc-js";
import { unary } from "../../src/cli/client.js";
import { Tenant, TenantServiceClient } from "../../src/gen/tenantmesh/v1/tenant.js";

/** One benchmark tenant: its plan, and the quota overrides that make its scenario what the issue asks */
export interface TenantSpec {
  readonly name: string;
  readonly plan: "free" | "basic" | "professional" | "enterprise";
  /** Requests per minute and the burst above it */
  readonly apiRateLimit: number;
  readonly burst: number;
  readonly maxThroughputRps: number;
  readonly maxConcurrentReqs: number;
  /** 1–10; with the plan's tier this makes the fair-queuing weight */
  readonly priority?: number;
}

export interface BenchTenant {
  readonly name: string;
  readonly id: string;
  readonly token: string;
  /** GET path of the tenant's seeded business: the tenant-scoped read every request makes */
  path: string;
}

/**
 * `call`, again (up to 5 attempts, 1 s apart) while it fails with a database outage: all seven server processes
 * start at once on one core, and the control plane's first connections can miss their 3 s connect timeout.
 */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= 5 || !/TM_ERR_DATABASE_UNAVAILABLE/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/**
 * Provisions every tenant and applies its overrides. database_connections is set to 8, the backends' own
 * capacity, so the per-tenant connection limit (src/kyb/connection-limit.ts) never binds below the backend's
 * capacity in these scenarios: what they measure is the proxy's scheduling.
 */
export async function provisionTenants(controlPlane: string, operatorToken: string, specs: readonly TenantSpec[]): Promise<BenchTenant[]> {
  const client = new TenantServiceClient(controlPlane, (await import("@grpc/grpc-js")).credentials.createInsecure());
  const md = new Metadata();
  md.set("authorization", `Bearer ${operatorToken}`);
  try {
    const out: BenchTenant[] = [];
    for (const spec of specs) {
      const slug = `iso-${spec.name}`;
      // Idempotent (the slug is the idempotency key), so a retryable answer is tried again
      const res = await retrying(() =>
        unary(
          client,
          client.provisionTenant,
          { name: `Isolation ${spec.name}`, slug, planType: spec.plan, adminEmail: `admin@${slug}.example.test`, adminPassword: "", billingInfo: undefined, billingCycle: "", idempotencyKey: slug },
          md,
          60_000,
        ),
      );
      const id = res.tenant!.id;
      const paths = ["api_rate_limit", "burst", "performance_quota.max_throughput_rps", "performance_quota.max_concurrent_reqs", "performance_quota.database_connections"];
      if (spec.priority !== undefined) paths.push("priority_level");
      const tenant = Tenant.fromPartial({
        id,
        apiRateLimit: spec.apiRateLimit,
        burst: spec.burst,
        priorityLevel: spec.priority ?? 0,
        performanceQuota: { maxThroughputRps: spec.maxThroughputRps, maxConcurrentReqs: spec.maxConcurrentReqs, databaseConnections: 8 },
      });
      await retrying(() => unary(client, client.updateTenant, { tenant, updateMask: paths }, md, 30_000));
      out.push({ name: spec.name, id, token: res.apiKey, path: "" });
    }
    return out;
  } finally {
    client.close();
  }
}

/**
 * Creates one business per tenant through `proxyOrigin` (retrying until the proxy's tenant directory has the
 * tenant) and points the tenant's `path` at it.
 */
export async function seedBusinesses(proxyOrigin: string, tenants: readonly BenchTenant[], timeoutMs = 60_000): Promise<void> {
  for (const t of tenants) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await fetch(`${proxyOrigin}/v1/businesses`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `Northwind ${t.name} Ltd`, country: "GB" }),
      }).catch(() => undefined);
      if (res?.status === 201) {
        const body = (await res.json()) as { id: string };
        t.path = `/v1/businesses/${body.id}`;
        break;
      }
      const text = res ? await res.text() : "no answer";
      if (Date.now() > deadline) throw new Error(`could not seed a business for ${t.name}: ${res?.status} ${text}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
