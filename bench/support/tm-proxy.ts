/**
 * The tenantmesh proxy with its whole pipeline, as its own process for benchmarks:
 * `node --import tsx bench/support/tm-proxy.ts <port> <backend host:port>[,<backend>…] [grpc backend host:port]`.
 * One tenant with one API key (pepper, key and identity secret from the environment, so the load generator
 * and any KYB backend share them), real clusters and routes, ProxyMetrics. Prints "ready <port>" when bound.
 */
import { createRouteTable } from "../../proxy/config/routes.js";
import { StaticDirectory, tenantEntryFromConfig } from "../../proxy/directory/static.js";
import { tenantConfig } from "../../proxy/directory/testing.js";
import { ProxyMetrics } from "../../proxy/metrics.js";
import { createProxy } from "../../proxy/proxy.js";
import { UpstreamCluster } from "../../proxy/upstream/cluster.js";
import { benchSecrets } from "./secrets.js";

const [portArg = "0", httpArg = "", grpcArg = ""] = process.argv.slice(2);
const { identitySecret, pepper, tenantId, keyDigest } = benchSecrets();

const backends = (list: string, prefix: string, capacity: number) =>
  list.split(",").filter(Boolean).map((address, i) => ({ id: `${prefix}-${i}`, address, capacity }));
const http = new UpstreamCluster({ name: "http", strategy: "round_robin", protocol: "http", backends: backends(httpArg, "http", 200) });
const grpc = new UpstreamCluster({ name: "grpc", strategy: "least_connections", protocol: "grpc", backends: backends(grpcArg || httpArg, "grpc", 200) });
const routes = createRouteTable(
  [
    { name: "api", match: { httpPathPrefix: "/" }, cluster: "http" },
    { name: "grpc", match: { grpcService: "tenantmesh.kyb.v1.EchoService" }, cluster: "grpc" },
    { name: "kyb", match: { grpcService: "tenantmesh.kyb.v1.BusinessService" }, cluster: "grpc" },
  ],
  [http, grpc],
);
const directory = new StaticDirectory();
const mapped = tenantEntryFromConfig({
  ...tenantConfig(tenantId, {
    enabledModules: ["classification", "risk_assessment"],
    performanceQuota: { maxResponseTimeMs: 5_000, maxThroughputRps: 0, maxConcurrentReqs: 1_000, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 },
  }),
  apiKeys: [keyDigest],
});
if (mapped === undefined) throw new Error("bench tenant did not map");
directory.upsert(mapped.entry, mapped.keys);
const metrics = new ProxyMetrics();
const proxy = createProxy({
  directory,
  sessionVerifier: { verify: () => Promise.resolve(null) },
  routes: () => routes,
  metrics,
  identitySecret,
  apiKeyPepper: pepper,
});
const bound = await proxy.listen("127.0.0.1", Number(portArg));
console.log(`ready ${bound.port}`);
process.on("SIGTERM", () => void proxy.close().then(() => process.exit(0)));
process.on("SIGINT", () => process.exit(0));
