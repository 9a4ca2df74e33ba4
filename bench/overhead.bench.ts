/**
 * What the proxy costs: `npm run bench:overhead` (`--quick` for a seconds-long CI smoke; `--backend plain|kyb`).
 * Method per ../shared/BENCHMARKING.md and issue 4 §5: one backend for every variant, load generators on core
 * 0 and every server on core 1, variants interleaved (A B C A B C …), medians with min–max.
 *   HTTP  wrk -t1 -c50: direct · bare http-proxy (keep-alive agent, maxSockets 100) · tenantmesh full pipeline
 *   gRPC  h2load -c1 -m50: direct · minimal node:http2 forwarder · tenantmesh
 *   open loop at 2,000 req/s (latency from each request's scheduled time): direct · http-proxy · tenantmesh
 * HTTP also shows a bare undici-Pool forwarder: the forwarder tenantmesh is built on, without the pipeline.
 * The tenantmesh variant runs the whole pipeline: API key check, admission, concurrency throttle, balancing,
 * signed identity, metrics. Last line: `overhead: tenantmesh/http-proxy = X.XX, added p99 Y.Y ms`.
 * `--tracing` adds two closed-loop variants (issue 8): the proxy with its telemetry and tracing off (the monitor
 * fed by a request hook), and with the OpenTelemetry SDK at full sampling exporting every span by OTLP/HTTP to
 * a stand-in collector; its last line is then `tracing: full sampling costs X% of throughput (HTTP), …`.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { GetBusinessRequest } from "../src/gen/tenantmesh/kyb/v1/business.js";
import { EchoRequest } from "../src/gen/tenantmesh/kyb/v1/echo.js";
import { identityHeaders, signIdentity } from "../src/identity/index.js";
import { createBenchDatabase, postgresReachable, postgresUrl, type BenchDatabase } from "./support/kyb-setup.js";
import { h2load, wrk, type LoadResult } from "./support/load.js";
import { loadAverage, LOAD_CORE, pinned, pinning, run, startServer, type Server } from "./support/processes.js";
import { benchSecrets } from "./support/secrets.js";
import { median, spread, table } from "./support/stats.js";
import { grpcPreflight, httpPreflight } from "./support/preflight.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const backendFlag = flag("--backend");
const rounds = quick ? 1 : 3;
const seconds = quick ? 2 : 10;
const warmup = quick ? 1 : 3;
const targetRate = Number(flag("--rate") ?? 2_000);
const openLoopSeconds = quick ? 2 : 8;
const withTracing = args.includes("--tracing");

for (const tool of ["wrk", "h2load"]) {
  try {
    await run("sh", ["-c", `command -v ${tool}`]);
  } catch {
    console.error(`${tool} is not installed: apt-get install -y wrk nghttp2-client`);
    process.exit(1);
  }
}

const servers: Server[] = [];
let database: BenchDatabase | undefined;
const work = mkdtempSync(join(tmpdir(), "tm-bench-"));
const cleanup = async (): Promise<void> => {
  await Promise.all(servers.map((s) => s.stop()));
  await database?.drop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
};
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

try {
  const useKyb = backendFlag === "plain" ? false : existsSync(new URL("../src/kyb/server.ts", import.meta.url)) && (await postgresReachable(postgresUrl()));
  if (backendFlag === "kyb" && !useKyb) throw new Error("--backend kyb needs src/kyb and a reachable PostgreSQL (DATABASE_URL)");
  if (useKyb) {
    database = await createBenchDatabase(postgresUrl());
    process.env.BENCH_TENANT_ID = database.tenantId;
  }
  const secrets = benchSecrets();
  const signed = (): Record<string, string> => {
    const id = { tenantId: secrets.tenantId, principal: "api_key:bench", requestId: randomUUID() };
    return {
      [identityHeaders.tenantId]: id.tenantId,
      [identityHeaders.principal]: id.principal,
      [identityHeaders.requestId]: id.requestId,
      [identityHeaders.signature]: signIdentity(secrets.identitySecret, id, Date.now()),
    };
  };

  const backend = useKyb
    ? await startServer("kyb", "bench/support/kyb-backend.ts", [database!.url, "0", "0"])
    : await startServer("plain", "bench/support/plain-backend.ts", ["0", "0"]);
  servers.push(backend);
  const [httpPort = "", grpcPort = ""] = backend.ready;
  const httpUpstream = `127.0.0.1:${httpPort}`;
  const grpcUpstream = `127.0.0.1:${grpcPort}`;

  // The request every variant sends: a cheap tenant-scoped read (KYB), or the plain backend's JSON
  let httpPath = "/v1/ping";
  let grpcPath = "/tenantmesh.kyb.v1.EchoService/Unary";
  let grpcMessage = Buffer.from(EchoRequest.encode({ message: "ping", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "" }).finish());
  if (useKyb) {
    const res = await fetch(`http://${httpUpstream}/v1/businesses`, {
      method: "POST",
      headers: { ...signed(), "content-type": "application/json" },
      body: JSON.stringify({ name: "Acme Holdings Ltd", registration_number: "12345678", country: "GB" }),
    });
    const created = (await res.json()) as { id?: string };
    if (res.status !== 201 || created.id === undefined) throw new Error(`could not create the benchmark business: ${res.status} ${JSON.stringify(created)}`);
    httpPath = `/v1/businesses/${created.id}`;
    grpcPath = "/tenantmesh.kyb.v1.BusinessService/GetBusiness";
    grpcMessage = Buffer.from(GetBusinessRequest.encode({ id: created.id }).finish());
  }
  const grpcBody = join(work, "grpc-request.bin");
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(grpcMessage.length, 1);
  writeFileSync(grpcBody, Buffer.concat([frame, grpcMessage]));

  const bare = await startServer("bare proxies", "bench/support/bare-proxies.ts", ["0", httpUpstream, "0", grpcUpstream, "0"]);
  const tm = await startServer("tenantmesh", "bench/support/tm-proxy.ts", ["0", httpUpstream, grpcUpstream]);
  servers.push(bare, tm);
  const [bareHttp = "", bareH2 = "", bareUndici = ""] = bare.ready;
  const [tmPort = ""] = tm.ready;
  // --tracing: the same proxy with its telemetry, tracing off and on (full sampling, OTLP to a stand-in collector)
  let tmHooks: Server | undefined;
  let tmTraced: Server | undefined;
  let sink: Server | undefined;
  if (withTracing) {
    sink = await startServer("otlp sink", "bench/support/otlp-sink.ts", ["0"]);
    tmHooks = await startServer("tenantmesh telemetry", "bench/support/tm-proxy.ts", ["0", httpUpstream, grpcUpstream], { TM_BENCH_TELEMETRY: "hooks" });
    tmTraced = await startServer("tenantmesh tracing", "bench/support/tm-proxy.ts", ["0", httpUpstream, grpcUpstream], {
      TM_BENCH_TELEMETRY: "tracing",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.ready[0] ?? ""}`,
    });
    servers.push(sink, tmHooks, tmTraced);
  }

  interface Variant {
    readonly name: string;
    readonly port: string;
    readonly server: Server | undefined;
    readonly headers: () => Record<string, string>;
  }
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${secrets.token}` });
  const httpVariants: Variant[] = [
    { name: "direct", port: httpPort, server: undefined, headers: signed },
    { name: "http-proxy", port: bareHttp, server: bare, headers: signed },
    { name: "undici forwarder", port: bareUndici, server: bare, headers: signed },
    { name: "tenantmesh", port: tmPort, server: tm, headers: auth },
  ];
  const tracingVariants = (): Variant[] =>
    tmHooks && tmTraced
      ? [
          { name: "tenantmesh tracing off", port: tmHooks.ready[0] ?? "", server: tmHooks, headers: auth },
          { name: "tenantmesh tracing on", port: tmTraced.ready[0] ?? "", server: tmTraced, headers: auth },
        ]
      : [];
  httpVariants.push(...tracingVariants());
  const grpcVariants: Variant[] = [
    { name: "direct", port: grpcPort, server: undefined, headers: signed },
    { name: "node:http2 forwarder", port: bareH2, server: bare, headers: signed },
    { name: "tenantmesh", port: tmPort, server: tm, headers: auth },
    ...tracingVariants(),
  ];
  const grpcHeaders = { "content-type": "application/grpc", te: "trailers" };
  for (const v of httpVariants) await httpPreflight(`http://127.0.0.1:${v.port}${httpPath}`, v.headers(), v.name);
  for (const v of grpcVariants) await grpcPreflight(`http://127.0.0.1:${v.port}`, grpcPath, { ...grpcHeaders, ...v.headers() }, grpcMessage, v.name);

  console.log(`tenantmesh proxy overhead — backend: ${useKyb ? `KYB on PostgreSQL (GET ${"/v1/businesses/:id"}, gRPC GetBusiness)` : "plain node:http JSON + grpc-js echo"}`);
  console.log(`placement: ${pinning ? `load on core ${LOAD_CORE}, servers on core 1` : "one core: not pinned (results are indicative only)"}; ${rounds} round(s) × ${seconds} s after ${warmup} s warm-up${quick ? " (--quick)" : ""}\n`);

  type Sample = LoadResult & { proxyCpuUs: number; backendCpuUs: number; load: number };
  const measure = async (v: Variant, load: () => Promise<LoadResult>): Promise<Sample> => {
    const p0 = v.server?.cpuMs() ?? 0;
    const b0 = backend.cpuMs();
    const l = loadAverage();
    const r = await load();
    const perReq = (ms: number): number => (r.requests > 0 ? (ms * 1000) / r.requests : Number.NaN);
    return { ...r, proxyCpuUs: v.server ? perReq((v.server.cpuMs() - p0)) : 0, backendCpuUs: perReq(backend.cpuMs() - b0), load: l };
  };
  const closedLoop = async (variants: Variant[], load: (v: Variant, secs: number) => Promise<LoadResult>): Promise<Map<string, Sample[]>> => {
    const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        await load(v, warmup);
        samples.get(v.name)!.push(await measure(v, () => load(v, seconds)));
      }
    }
    return samples;
  };
  const report = (samples: Map<string, Sample[]>, base: string): void => {
    const rows = [...samples].map(([name, s]) => [
      name,
      spread(s.map((x) => x.rps)),
      spread(s.map((x) => x.p50Ms), 2),
      spread(s.map((x) => x.p99Ms), 2),
      (median(s.map((x) => x.rps)) / median(samples.get(base)!.map((x) => x.rps))).toFixed(3),
      name === base ? "-" : median(s.map((x) => x.proxyCpuUs)).toFixed(1),
      median(s.map((x) => x.backendCpuUs)).toFixed(1),
      String(s.reduce((n, x) => n + x.errors, 0)),
      spread(s.map((x) => x.load), 1),
    ]);
    console.log(table(["variant", "req/s", "p50 ms", "p99 ms", `÷ ${base}`, "proxy CPU µs/req", "backend CPU µs/req", "errors", "load avg"], rows));
  };

  console.log("HTTP/1.1, wrk -t1 -c50");
  const http = await closedLoop(httpVariants, (v, secs) => wrk(`http://127.0.0.1:${v.port}${httpPath}`, v.headers(), secs));
  report(http, "direct");
  const ratio = median(http.get("tenantmesh")!.map((x) => x.rps)) / median(http.get("http-proxy")!.map((x) => x.rps));
  console.log(`tenantmesh ÷ http-proxy = ${ratio.toFixed(2)}\n`);

  console.log("gRPC unary over h2c, h2load -c1 -m50");
  const grpc = await closedLoop(grpcVariants, (v, secs) =>
    h2load(`http://127.0.0.1:${v.port}${grpcPath}`, { ...grpcHeaders, ...v.headers() }, grpcBody, secs, Math.min(2, warmup)),
  );
  report(grpc, "direct");
  console.log("");

  // An open loop above what the backend itself can serve measures its queue, not the proxy: stay below it
  const directCapacity = median(http.get("direct")!.map((x) => x.rps));
  const openLoopRate = directCapacity >= targetRate * 1.25 ? targetRate : Math.max(100, Math.floor((directCapacity * 0.6) / 100) * 100);
  if (openLoopRate !== targetRate) console.log(`note: the backend serves ${directCapacity.toFixed(0)} req/s directly, so the open loop runs at ${openLoopRate} req/s instead of ${targetRate}`);
  console.log(`open loop, ${openLoopRate} req/s, latency from scheduled send time`);
  const openVariants = httpVariants.filter((v) => v.name !== "undici forwarder" && !v.name.startsWith("tenantmesh tracing"));
  const open = new Map<string, Array<{ p50: number; p99: number; p999: number; errors: number }>>(openVariants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of openVariants) {
      const [cmd, argv] = pinned(LOAD_CORE, process.execPath, ["--import", "tsx", "bench/support/open-loop.ts", `http://127.0.0.1:${v.port}${httpPath}`, String(openLoopRate), String(openLoopSeconds), "1", JSON.stringify(v.headers())]);
      open.get(v.name)!.push(JSON.parse((await run(cmd, argv)).trim().split("\n").at(-1) ?? "{}") as { p50: number; p99: number; p999: number; errors: number });
    }
  }
  console.log(
    table(
      ["variant", "p50 ms", "p99 ms", "p99.9 ms", "errors"],
      [...open].map(([name, s]) => [name, spread(s.map((x) => x.p50), 2), spread(s.map((x) => x.p99), 2), spread(s.map((x) => x.p999), 2), String(s.reduce((n, x) => n + x.errors, 0))]),
    ),
  );
  const p99 = (name: string): number => median(open.get(name)!.map((x) => x.p99));
  const errors = [...http.values(), ...grpc.values()].flat().reduce((n, x) => n + x.errors, 0) + [...open.values()].flat().reduce((n, x) => n + x.errors, 0);
  if (errors > 0) console.log(`\nWARNING: ${errors} failed requests across the runs; the affected figures are not valid samples`);
  const worstLoad = Math.max(...[...http.values(), ...grpc.values()].flat().map((x) => x.load));
  if (worstLoad > 2 * availableParallelism()) {
    console.log(`\nWARNING: the 1-minute load average reached ${worstLoad.toFixed(1)} on ${availableParallelism()} cores: other work competed for the CPUs, so these figures (latency above all) are disturbed; repeat on a quiet machine`);
  }
  console.log(`\noverhead: tenantmesh/http-proxy = ${ratio.toFixed(2)}, added p99 ${(p99("tenantmesh") - p99("direct")).toFixed(1)} ms`);
  if (withTracing) {
    const cost = (samples: Map<string, Sample[]>, name: string): string => {
      const base = median(samples.get("tenantmesh")!.map((x) => x.rps));
      return `${((1 - median(samples.get(name)!.map((x) => x.rps)) / base) * 100).toFixed(1)}%`;
    };
    console.log(
      `tracing: full sampling costs ${cost(http, "tenantmesh tracing on")} of throughput (HTTP), ${cost(grpc, "tenantmesh tracing on")} (gRPC); tracing off costs ${cost(http, "tenantmesh tracing off")} (HTTP), ${cost(grpc, "tenantmesh tracing off")} (gRPC) — vs tenantmesh without telemetry`,
    );
  }
} finally {
  await cleanup();
}
