/**
 * The proxy in front of the real KYB business service (src/kyb): the signed identity it forwards is what the
 * KYB service trusts, over HTTP and gRPC, while a forged x-tenant-id sent straight to the backend is refused.
 */
import { randomBytes } from "node:crypto";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouteTable } from "../proxy/config/routes.js";
import { StaticDirectory, tenantEntryFromConfig } from "../proxy/directory/static.js";
import { tenantConfig } from "../proxy/directory/testing.js";
import { ProxyMetrics } from "../proxy/metrics.js";
import { createProxy, type Proxy } from "../proxy/proxy.js";
import { UpstreamCluster } from "../proxy/upstream/cluster.js";
import { generateApiKey, hashApiKeySecret } from "../src/auth/api-key.js";
import * as pb from "../src/gen/tenantmesh/kyb/v1/business.js";
import { insertKybTenant, startTestKyb, unaryCall, type TestKyb } from "../src/kyb/testing.js";
import { openTestDatabase, type TestDatabase } from "./support/db.js";

let database: TestDatabase;
let kyb: TestKyb;
let proxy: Proxy;
let metrics: ProxyMetrics;
let proxyAddress: string;
let token: string;
let tenantId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  kyb = await startTestKyb(database.db);
  tenantId = await insertKybTenant(database.db, { modules: ["classification"] });
  const pepper = randomBytes(32);
  const key = generateApiKey();
  token = key.token;
  const directory = new StaticDirectory();
  const mapped = tenantEntryFromConfig({
    ...tenantConfig(tenantId, { enabledModules: ["classification"] }),
    apiKeys: [{ keyId: key.keyId, secretHash: hashApiKeySecret(pepper, key.keyId, key.secret), role: "admin", expiresAt: undefined }],
  });
  directory.upsert(mapped!.entry, mapped!.keys);
  const http = new UpstreamCluster({ name: "kyb-http", strategy: "round_robin", protocol: "http", backends: [{ id: "kyb-0", address: kyb.baseUrl.slice(7), capacity: 8 }] });
  const grpc = new UpstreamCluster({ name: "kyb-grpc", strategy: "round_robin", protocol: "grpc", backends: [{ id: "kyb-0", address: kyb.grpcAddress, capacity: 8 }] });
  const routes = createRouteTable(
    [
      { name: "classify", match: { httpPathPrefix: "/v1/businesses/*/classify" }, cluster: "kyb-http", module: "classification" },
      { name: "risk", match: { httpPathPrefix: "/v1/businesses/*/risk-assessment" }, cluster: "kyb-http", module: "risk_assessment" },
      { name: "businesses", match: { httpPathPrefix: "/v1/businesses" }, cluster: "kyb-http" },
      { name: "business-grpc", match: { grpcService: "tenantmesh.kyb.v1.BusinessService" }, cluster: "kyb-grpc" },
    ],
    [http, grpc],
  );
  metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  proxy = createProxy({ directory, sessionVerifier: { verify: () => Promise.resolve(null) }, routes: () => routes, metrics, identitySecret: kyb.secret, apiKeyPepper: pepper });
  proxyAddress = `127.0.0.1:${(await proxy.listen("127.0.0.1", 0)).port}`;
});

afterAll(async () => {
  await proxy?.close();
  metrics?.close();
  await kyb?.close();
  await database?.close();
});

const bearer = (): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe("the proxy in front of the KYB service", () => {
  it("creates and reads a business over HTTP and gRPC as the tenant the API key names", async () => {
    const created = await request(`http://${proxyAddress}/v1/businesses`, {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json", "x-tenant-id": randomBytes(16).toString("hex") },
      body: JSON.stringify({ name: "Acme Software Ltd", registration_number: "0001", country: "GB" }),
    });
    const business = (await created.body.json()) as { id: string; tenant_id?: string };
    expect(created.statusCode).toBe(201);

    const client = new pb.BusinessServiceClient(proxyAddress, credentials.createInsecure());
    const md = new Metadata();
    md.set("authorization", `Bearer ${token}`);
    const viaGrpc = await unaryCall(client.getBusiness, client, { id: business.id }, md);
    client.close();
    expect(viaGrpc).toMatchObject({ id: business.id, tenantId, name: "Acme Software Ltd" });
  });

  it("gates the KYB module routes on the tenant's modules at the proxy", async () => {
    const res = await request(`http://${proxyAddress}/v1/businesses/00000000-0000-4000-8000-000000000000/risk-assessment`, { method: "POST", headers: bearer(), body: "{}" });
    expect(res.statusCode).toBe(403);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe("TM_ERR_MODULE_DISABLED");
  });

  it("a call straight to the backend with a forged x-tenant-id is refused by the backend", async () => {
    const direct = await request(`${kyb.baseUrl}/v1/businesses`, { headers: { "x-tenant-id": tenantId } });
    expect(direct.statusCode).toBe(401);
    await direct.body.dump();
    const md = new Metadata();
    md.set("x-tenant-id", tenantId);
    const err = await unaryCall(kyb.business.listBusinesses, kyb.business, { pageSize: 1, pageToken: "" }, md).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(status.UNAUTHENTICATED);
  });
});
