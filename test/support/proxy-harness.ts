/**
 * A whole proxy over real sockets for tests: StaticDirectory tenants with real API keys, real clusters and
 * routes, ProxyMetrics, the createProxy composition on an ephemeral port, and the backends of
 * proxy-backends.ts behind it.
 */
import { randomBytes } from "node:crypto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { generateApiKey, hashApiKeySecret } from "../../src/auth/api-key.js";
import type { TenantConfig } from "../../src/gen/tenantmesh/v1/tenant.js";
import { EchoServiceClient } from "../../src/gen/tenantmesh/kyb/v1/echo.js";
import { createRouteTable, type RouteSpec } from "../../proxy/config/routes.js";
import { StaticDirectory, tenantEntryFromConfig } from "../../proxy/directory/static.js";
import { tenantConfig } from "../../proxy/directory/testing.js";
import type { SessionPrincipal, SessionVerifier } from "../../proxy/directory/types.js";
import { ProxyMetrics } from "../../proxy/metrics.js";
import { createProxy, type CreateProxyOptions, type Proxy, type ProxyLimits } from "../../proxy/proxy.js";
import { UpstreamCluster } from "../../proxy/upstream/cluster.js";
import type { RouteTable } from "../../proxy/upstream/types.js";
import { startGrpcBackend, startHttpBackend, type GrpcBackend, type HttpBackend } from "./proxy-backends.js";

type TenantPatch = Partial<NonNullable<TenantConfig["tenant"]>>;

export interface HarnessTenant {
  readonly id: string;
  /** A valid API key token (`tm_…`) */
  readonly token: string;
}

export interface HarnessOptions {
  readonly httpBackends?: number;
  readonly grpcBackends?: number;
  /** Capacity of each backend (default 100) */
  readonly capacity?: number;
  readonly limits?: Partial<ProxyLimits>;
  /** Field overrides of the tenant `acme` */
  readonly acme?: TenantPatch;
  readonly sessions?: Record<string, SessionPrincipal>;
  readonly extra?: Partial<CreateProxyOptions>;
  /** Addresses added to the HTTP cluster after the live backends (e.g. a port nothing listens on) */
  readonly extraHttpAddresses?: readonly string[];
  /** Addresses added to the gRPC cluster after the grpc-js backends (e.g. a raw HTTP/2 server) */
  readonly extraGrpcAddresses?: readonly string[];
}

export interface ProxyHarness {
  readonly proxy: Proxy;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** 127.0.0.1:<port> */
  readonly address: string;
  readonly port: number;
  readonly directory: StaticDirectory;
  readonly metrics: ProxyMetrics;
  readonly secret: Buffer;
  readonly pepper: Buffer;
  readonly http: HttpBackend[];
  readonly grpc: GrpcBackend[];
  readonly httpCluster: UpstreamCluster;
  /** active, modules [classification] */
  readonly acme: HarnessTenant;
  /** suspended */
  readonly globex: HarnessTenant;
  /** restricted to 10.0.0.0/8 (so never the test's 127.0.0.1) */
  readonly initech: HarnessTenant;
  /** restricted to 127.0.0.0/8 */
  readonly umbrella: HarnessTenant;
  /** A key of acme that expired */
  readonly expiredToken: string;
  /** Replaces tenant acme's entry (its keys stay) */
  patchAcme(patch: TenantPatch): void;
  echoClient(): EchoServiceClient;
  /** gRPC metadata carrying `token` */
  auth(token: string): Metadata;
  close(): Promise<void>;
}

export const routeSpecs: RouteSpec[] = [
  { name: "risk", match: { httpPathPrefix: "/v1/risk" }, cluster: "http", module: "risk_assessment" },
  ...["/v1", "/stream", "/status", "/slow", "/hold"].map((prefix) => ({ name: prefix.slice(1), match: { httpPathPrefix: prefix }, cluster: "http" })),
  { name: "echo", match: { grpcService: "tenantmesh.kyb.v1.EchoService" }, cluster: "grpc" },
];

export async function startProxyHarness(options: HarnessOptions = {}): Promise<ProxyHarness> {
  const secret = randomBytes(32);
  const pepper = randomBytes(32);
  const http = await Promise.all(Array.from({ length: options.httpBackends ?? 2 }, (_, i) => startHttpBackend(secret, `http-${i}`)));
  const grpc = await Promise.all(Array.from({ length: options.grpcBackends ?? 1 }, () => startGrpcBackend(secret)));
  const capacity = options.capacity ?? 100;
  const httpCluster = new UpstreamCluster({
    name: "http",
    strategy: "round_robin",
    protocol: "http",
    backends: [...http.map((b) => b.address), ...(options.extraHttpAddresses ?? [])].map((address, i) => ({ id: `http-${i}`, address, capacity })),
  });
  const grpcCluster = new UpstreamCluster({
    name: "grpc",
    strategy: "least_connections",
    protocol: "grpc",
    backends: [...grpc.map((b) => b.address), ...(options.extraGrpcAddresses ?? [])].map((address, i) => ({ id: `grpc-${i}`, address, capacity })),
  });
  const table: RouteTable = createRouteTable(routeSpecs, [httpCluster, grpcCluster]);

  const directory = new StaticDirectory();
  const key = (): { token: string; digest: TenantConfig["apiKeys"][number] } => {
    const k = generateApiKey();
    return { token: k.token, digest: { keyId: k.keyId, secretHash: hashApiKeySecret(pepper, k.keyId, k.secret), role: "admin", expiresAt: undefined } };
  };
  const put = (id: string, patch: TenantPatch, keys: Array<TenantConfig["apiKeys"][number]>): void => {
    const mapped = tenantEntryFromConfig({ ...tenantConfig(id, patch), apiKeys: keys });
    if (mapped === undefined) throw new Error(`bad tenant ${id}`);
    directory.upsert(mapped.entry, mapped.keys);
  };
  const acmeKey = key();
  const expired = key();
  const acmeKeys = [acmeKey.digest, { ...expired.digest, expiresAt: new Date(Date.now() - 1_000) }];
  let acmePatch: TenantPatch = { ...options.acme };
  put("acme", acmePatch, acmeKeys);
  const tenant = (id: string, patch: TenantPatch): HarnessTenant => {
    const k = key();
    put(id, patch, [k.digest]);
    return { id, token: k.token };
  };
  const globex = tenant("globex", { status: "suspended" });
  const initech = tenant("initech", { networkRestrictions: ["10.0.0.0/8"] });
  const umbrella = tenant("umbrella", { networkRestrictions: ["127.0.0.0/8"] });

  const sessions = options.sessions ?? {};
  const sessionVerifier: SessionVerifier = { verify: (token) => Promise.resolve(sessions[token] ?? null) };
  const metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  const proxy = createProxy({
    directory,
    sessionVerifier,
    routes: () => table,
    metrics,
    identitySecret: secret,
    apiKeyPepper: pepper,
    ...(options.limits ? { limits: options.limits } : {}),
    ...options.extra,
  });
  const bound = await proxy.listen("127.0.0.1", 0);
  const address = `127.0.0.1:${bound.port}`;
  const clients: EchoServiceClient[] = [];

  return {
    proxy,
    url: `http://${address}`,
    address,
    port: bound.port,
    directory,
    metrics,
    secret,
    pepper,
    http,
    grpc,
    httpCluster,
    acme: { id: "acme", token: acmeKey.token },
    globex,
    initech,
    umbrella,
    expiredToken: expired.token,
    patchAcme(patch) {
      acmePatch = { ...acmePatch, ...patch };
      put("acme", acmePatch, acmeKeys);
    },
    echoClient() {
      const c = new EchoServiceClient(address, credentials.createInsecure());
      clients.push(c);
      return c;
    },
    auth(token) {
      const md = new Metadata();
      md.set("authorization", `Bearer ${token}`);
      return md;
    },
    async close() {
      for (const c of clients) c.close();
      await proxy.close();
      metrics.close();
      await Promise.all([...http.map((b) => b.close()), ...grpc.map((b) => b.close())]);
    },
  };
}

/** An address on 127.0.0.1 where nothing listens (bound, then closed) */
export async function deadAddress(): Promise<string> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `127.0.0.1:${port}`;
}
