/**
 * A small traced mesh for tests: a real control plane with one provisioned tenant, a KYB backend (its real
 * HTTP and gRPC edges, identity gate and capacity) whose operations also call the control plane — as
 * backends do for quota and usage — through the tracing client interceptor, and a real proxy in front with
 * the trace stage, telemetry and admin API. Tracing must have been started by the test file.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { credentials, Metadata } from "@grpc/grpc-js";
import { trace } from "@opentelemetry/api";
import { generateApiKey, hashApiKeySecret } from "../../src/auth/api-key.js";
import { systemClock } from "../../src/auth/clock.js";
import { TenantServiceClient, type Tenant } from "../../src/gen/tenantmesh/v1/tenant.js";
import { startGrpcServer, type GrpcServerHandle } from "../../src/grpc/index.js";
import { Capacity } from "../../src/kyb/capacity.js";
import { businessServiceImplementation, BusinessServiceService } from "../../src/kyb/grpc.js";
import { createKybHttpServer } from "../../src/kyb/http.js";
import { createIdentityGate } from "../../src/kyb/identity.js";
import type { Business } from "../../src/kyb/model.js";
import type { KybRuntime } from "../../src/kyb/runtime.js";
import type { KybService } from "../../src/kyb/service.js";
import { silentLogger } from "../../src/log/index.js";
import { scopes, tracingClientInterceptor, type Tracing } from "../../src/telemetry/index.js";
import { bearer, provision, tenantClient } from "../../src/tenants/testing.js";
import { startAdminServer, type AdminServer } from "../../proxy/admin.js";
import { createRouteTable } from "../../proxy/config/routes.js";
import { StaticDirectory, tenantEntryFromConfig } from "../../proxy/directory/static.js";
import { tenantConfig } from "../../proxy/directory/testing.js";
import { ProxyMetrics } from "../../proxy/metrics.js";
import { createProxy, type Proxy } from "../../proxy/proxy.js";
import type { Throttle } from "../../proxy/pipeline/throttle.js";
import { createProxyTelemetry, type ProxyTelemetry } from "../../proxy/telemetry/index.js";
import { UpstreamCluster } from "../../proxy/upstream/cluster.js";
import { startTestControlPlane, type TestControlPlane } from "./control-plane.js";

export interface TracedMesh {
  readonly tcp: TestControlPlane;
  readonly tenant: Tenant;
  /** An API key of the tenant, valid at the proxy */
  readonly token: string;
  /** http://127.0.0.1:<proxy port> */
  readonly url: string;
  readonly proxyAddress: string;
  readonly adminUrl: string;
  readonly telemetry: ProxyTelemetry;
  /** The business ids the stubbed KYB service was asked for */
  readonly asked: string[];
  close(): Promise<void>;
}

/** A business id that makes the stubbed KYB operation fail with an internal error (a 500 / INTERNAL) */
export const FAILING_BUSINESS = "00000000-0000-4000-8000-0000000000ff";

export async function startTracedMesh(tracing: Tracing, options: { throttle?: Throttle } = {}): Promise<TracedMesh> {
  const tcp = await startTestControlPlane();
  const tenants = tenantClient(tcp.address);
  const tenant = (await provision(tenants, tcp.adminToken, { planType: "professional" })).tenant!;
  tenants.close();

  // KYB: real edges over a stubbed service whose reads first ask the control plane about the tenant.
  const cp = new TenantServiceClient(tcp.address, credentials.createInsecure(), { interceptors: [tracingClientInterceptor(trace.getTracer(scopes.kyb))] });
  const asked: string[] = [];
  const business = (tenantId: string, id: string): Business => ({
    id, tenantId, name: "Traced Ltd", registrationNumber: null, country: "GB", industryCode: null, status: "pending", riskScore: null, details: {}, createdAt: new Date(), updatedAt: new Date(),
  });
  const service = {
    async getBusiness(tenantId: string, id: string): Promise<Business> {
      asked.push(id);
      await new Promise<Tenant>((resolve, reject) => cp.getTenant({ id: tenantId }, bearer(tcp.adminToken), (err, res) => (err ? reject(err) : resolve(res))));
      if (id === FAILING_BUSINESS) throw new Error("the stubbed KYB store broke");
      return business(tenantId, id);
    },
  } as unknown as KybService;
  const identitySecret = randomBytes(32);
  const capacity = new Capacity(16);
  const rt: KybRuntime = {
    service,
    identity: createIdentityGate(identitySecret, systemClock),
    capacity,
    clock: systemClock,
    logger: silentLogger,
    echo: { inFlight: 0, cancelled: 0 },
    work: (fn, signal) => capacity.run(fn, { serviceTimeMs: 0, signal }),
  };
  const kybHttp: Server = createKybHttpServer(rt);
  await new Promise<void>((r) => kybHttp.listen(0, "127.0.0.1", r));
  const kybGrpc: GrpcServerHandle = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    services: [{ name: "tenantmesh.kyb.v1.BusinessService", definition: BusinessServiceService, implementation: businessServiceImplementation(rt) }],
    protoFiles: ["tenantmesh/kyb/v1/business.proto"],
  });
  kybGrpc.setServing(true);

  // The proxy: the tenant with a real API key, tenant-affinity clusters over the KYB edges.
  const pepper = randomBytes(32);
  const key = generateApiKey();
  const directory = new StaticDirectory();
  const entry = tenantEntryFromConfig({
    ...tenantConfig(tenant.id, { slug: tenant.slug, planType: tenant.planType, priorityLevel: tenant.priorityLevel }),
    apiKeys: [{ keyId: key.keyId, secretHash: hashApiKeySecret(pepper, key.keyId, key.secret), role: "admin", expiresAt: undefined }],
  });
  if (entry === undefined) throw new Error("bad tenant entry");
  directory.upsert(entry.entry, entry.keys);
  const httpCluster = new UpstreamCluster({ name: "kyb-http", strategy: "tenant_affinity", protocol: "http", backends: [{ id: "kyb-http-1", address: `127.0.0.1:${(kybHttp.address() as AddressInfo).port}`, capacity: 16 }] });
  const grpcCluster = new UpstreamCluster({ name: "kyb-grpc", strategy: "tenant_affinity", protocol: "grpc", backends: [{ id: "kyb-grpc-1", address: `127.0.0.1:${kybGrpc.port}`, capacity: 16 }] });
  const routes = createRouteTable(
    [
      { name: "businesses", match: { httpPathPrefix: "/v1/businesses" }, cluster: "kyb-http" },
      { name: "business-grpc", match: { grpcService: "tenantmesh.kyb.v1.BusinessService" }, cluster: "kyb-grpc" },
    ],
    [httpCluster, grpcCluster],
  );
  const metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  const telemetry = createProxyTelemetry({ directory, routes: () => routes, clock: systemClock, logger: silentLogger, tracing });
  const proxy: Proxy = createProxy({
    directory,
    sessionVerifier: { verify: () => Promise.resolve(null) },
    routes: () => routes,
    metrics,
    identitySecret,
    apiKeyPepper: pepper,
    hooks: telemetry.hooks,
    ...(telemetry.trace ? { trace: telemetry.trace } : {}),
    ...(options.throttle ? { throttle: options.throttle } : {}),
  });
  const bound = await proxy.listen("127.0.0.1", 0);
  const admin: AdminServer = await startAdminServer({ port: 0, directory, routes: () => routes, metrics, operatorToken: tcp.adminToken, operatorRoutes: telemetry.adminRoutes });

  return {
    tcp,
    tenant,
    token: key.token,
    url: `http://127.0.0.1:${bound.port}`,
    proxyAddress: `127.0.0.1:${bound.port}`,
    adminUrl: `http://127.0.0.1:${admin.port}`,
    telemetry,
    asked,
    async close() {
      await admin.close();
      await proxy.close();
      await telemetry.close();
      metrics.close();
      await kybGrpc.close(0);
      await new Promise<void>((r) => kybHttp.close(() => r()));
      cp.close();
      await tcp.close();
    },
  };
}

/** A fresh W3C traceparent of a sampled trace, and its trace id */
export function clientTraceparent(sampled = true): { traceparent: string; traceId: string } {
  const traceId = randomUUID().replaceAll("-", "");
  return { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-${sampled ? "01" : "00"}`, traceId };
}

/** gRPC metadata with the bearer token and optional extra headers */
export function grpcMetadata(token: string, extra: Record<string, string> = {}): Metadata {
  const md = bearer(token);
  for (const [k, v] of Object.entries(extra)) md.set(k, v);
  return md;
}
