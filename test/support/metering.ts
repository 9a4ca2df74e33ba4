/**
 * Fixtures of the metering, quota and billing tests: QuotaService and BillingService clients with promise
 * calls, service tokens, usage events, and tenants provisioned through the real control plane.
 */
import { randomUUID } from "node:crypto";
import { credentials, Metadata, type CallOptions, type Client, type ServiceError } from "@grpc/grpc-js";
import { issueServiceToken } from "../../src/control-plane/index.js";
import { BillingServiceClient } from "../../src/gen/tenantmesh/v1/billing.js";
import { QuotaServiceClient, type RecordUsageRequest, type UsageEvent } from "../../src/gen/tenantmesh/v1/quota.js";
import type { ProvisionTenantResponse } from "../../src/gen/tenantmesh/v1/tenant.js";
import { silentLogger } from "../../src/log/index.js";
import { ingestorFor } from "../../src/metering/index.js";
import { provision, tenantClient } from "../../src/tenants/testing.js";
import type { TestControlPlane } from "./control-plane.js";

export { failure } from "../../src/users/testing.js";

export const quotaClient = (address: string): QuotaServiceClient => new QuotaServiceClient(address, credentials.createInsecure());
export const billingClient = (address: string): BillingServiceClient => new BillingServiceClient(address, credentials.createInsecure());

export const bearer = (token: string): Metadata => {
  const md = new Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
};

/** Promise form of a unary method of a ts-proto client, bound to it */
export function rpc<Req, Res>(
  client: Client,
  method: (req: Req, md: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** A proxy's service token (usage:write) for the test control plane */
export const usageWriterToken = (t: TestControlPlane, scopes: Parameters<typeof issueServiceToken>[2] = ["usage:write"]): string =>
  issueServiceToken(t.cp.secrets, `test-proxy-${randomUUID().slice(0, 8)}`, scopes);

/** One usage event */
export const usageEvent = (tenantId: string, resourceType: string, amount: number | string, occurredAt: Date): UsageEvent => ({
  tenantId,
  resourceType,
  amount: String(amount),
  occurredAt,
});

/** A RecordUsage request with a fresh batch id unless one is given */
export const usageBatch = (events: UsageEvent[], batchId = `test-${randomUUID()}`): RecordUsageRequest => ({ batchId, events, source: "test", returnQuotas: false });

/** Provisions a tenant through TenantService as the operator; closes its client */
export async function provisionTenant(t: TestControlPlane, fields: Parameters<typeof provision>[2] = {}): Promise<ProvisionTenantResponse> {
  const client = tenantClient(t.address);
  try {
    return await provision(client, t.adminToken, fields);
  } finally {
    client.close();
  }
}

/** Sets tenant columns straight in the database (quota overrides for tests) */
export async function setTenantColumns(t: TestControlPlane, tenantId: string, columns: Record<string, unknown>): Promise<void> {
  await t.testDb.db.asPlatform((trx) => trx("tenants").where({ id: tenantId }).update(columns));
}

/** Waits until every usage batch the control plane acknowledged is in the rollups */
export const settleUsage = (t: TestControlPlane): Promise<void> => ingestorFor(t.testDb.db, silentLogger).settle();

/** Sums of the tenant's rollups per granularity and resource type, read as the platform (after settling) */
export async function rollupTotals(t: TestControlPlane, tenantId: string): Promise<Record<string, number>> {
  await settleUsage(t);
  const rows = (await t.testDb.db.asPlatform((trx) =>
    trx("tenant_resource_usage").where({ tenant_id: tenantId }).select("granularity", "resource_type").sum({ n: "usage_count" }).groupBy("granularity", "resource_type"),
  )) as Array<{ granularity: string; resource_type: string; n: unknown }>;
  return Object.fromEntries(rows.map((r) => [`${r.granularity}:${r.resource_type}`, Number(r.n)]));
}
