/**
 * The tenantmesh proxy with its whole pipeline, as its own process for benchmarks:
 * `node --import tsx bench/support/tm-proxy.ts <port> <backend host:port>[,<backend>…] [grpc backend host:port]`.
 * One tenant with one API key (pepper, key and identity secret from the environment, so the load generator
 * and any KYB backend share them), real clusters and routes, ProxyMetrics. Prints "ready <port>" when bound.
 * `TM_BENCH_TELEMETRY=hooks` adds the proxy's telemetry with tracing off (the monitor fed by a request hook);
 * `TM_BENCH_TELEMETRY=tracing` adds it with the OpenTelemetry SDK at full sampling (the span processor feeds the
 * monitor; spans go by OTLP to OTEL_EXPORTER_OTLP_ENDPOINT when set).
 */
import { createRouteTable } from "../../proxy/config/routes.js";
import { StaticDirectory, tenantEntryFromConfig } from "../../proxy/directory/static.js";
import { tenantConfig } from "../../proxy/directory/testing.js";
import { ProxyMetrics } from "../../proxy/metrics.js";
import { createProxy } from "../../proxy/proxy.js";
import { createProxyTelemetry } from "../../proxy/telemetry/index.js";
import { systemClock } from "../../src/auth/clock.js";
import { silentLogger } from "../../src/log/index.js";
import { startTracing, tracingConfigFromEnv } from "../../src/telemetry/index.js";
import { UpstreamCluster } from "../../proxy/upstream/cluster.js";
import { ConcurrencyThrottle } from "../../proxy/pipeline/throttle.js";
import { nullUsageSink, UsageMeter } from "../../proxy/usage/index.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
const mode = process.env.TM_BENCH_TELEMETRY ?? "off";
const tracing = mode === "tracing" ? startTracing(tracingConfigFromEnv({ ...process.env, OTEL_TRACES_SAMPLER: "always_on" }, "tm-bench-proxy"), { asyncContext: false }) : undefined;
const telemetry = mode === "off" ? undefined : createProxyTelemetry({ directory, routes: () => routes, clock: systemClock, logger: silentLogger, tracing });
// TM_BENCH_USAGE=on: usage counting on the hot path (the meter's hook and monthly-quota gate), flushing every
// 2 s to a sink that accepts everything — the control plane is not part of this benchmark.
const usage =
  process.env.TM_BENCH_USAGE === "on"
    ? new UsageMeter({ sink: nullUsageSink, spoolFile: join(tmpdir(), `tm-bench-usage-${process.pid}.jsonl`), registry: metrics.registry, clock: systemClock, logger: silentLogger, source: "bench" }).start()
    : undefined;
const hooks = [...(telemetry?.hooks ?? []), ...(usage ? [usage.hook] : [])];
const proxy = createProxy({
  directory,
  sessionVerifier: { verify: () => Promise.resolve(null) },
  routes: () => routes,
  metrics,
  identitySecret,
  apiKeyPepper: pepper,
  ...(hooks.length > 0 ? { hooks } : {}),
  ...(telemetry?.trace ? { trace: telemetry.trace } : {}),
  ...(usage ? { throttle: usage.quotas.gate(new ConcurrencyThrottle()) } : {}),
});
const bound = await proxy.listen("127.0.0.1", Number(portArg));
console.log(`ready ${bound.port}`);
process.on("SIGTERM", () => void proxy.close().then(() => process.exit(0)));
process.on("SIGINT", () => process.exit(0));
