/**
 * The noisy-neighbour benchmark (issue 5 §4): `npm run bench:isolation` (`--quick` for a short smoke).
 *
 * 4 KYB backend processes on PostgreSQL (capacity 8, service time 10 ms: ≈3,200 req/s nominal), each request a
 * real tenant-scoped read (GET /v1/businesses/:id of a seeded business), through (a) tenantmesh — the
 * `tenantmesh proxy` process, fed by a real control plane — and (b) a naive round-robin http-proxy, in the same
 * run. Open loop, latency from each request's scheduled send time; generators on core 0, everything else on
 * core 1 (../shared/BENCHMARKING.md). Scenarios:
 * - noisy neighbour: victim at 100 req/s alone, then under an aggressor flooding at 4,000 req/s whose own rate
 *   limit and burst exceed the cluster's capacity (so only fair queuing can protect the victim); alternating,
 *   3 repetitions, ≥ 3,000 victim samples per window, medians;
 * - symmetric: 4 equal-weight tenants all over capacity with unequal offered loads → Jain's index of goodput;
 * - weighted: tenants of weight 1, 2, 4 all over capacity → goodput shares against the weights.
 * Last line: `isolation: victim p99 impact X.X% (naive Y%)`.
 *
 * The calibration also prints what one served request costs the server side (every mesh process and
 * PostgreSQL, in CPU) and so how many requests a second one core can carry: when that is below the nominal
 * capacity, the host, not the backend slots, is what saturates. `--scale k` runs the same queueing problem at
 * 1/k of the request rate (see below). `BENCH_PROFILE_DIR=<dir>` writes a CPU profile of every mesh process.
 */
import { startIsoCluster, type IsoCluster } from "./support/iso-cluster.js";
import type { TenantSpec } from "./support/iso-tenants.js";
import { runWindow, type Stream, type WindowResult } from "./support/iso-window.js";
import { cpuMsOfCommand } from "./support/processes.js";
import { median, quantile, spread, table } from "./support/stats.js";

const quick = process.argv.includes("--quick");
const reps = quick ? 1 : 3;
/**
 * `--scale k` (default 1): every backend's service time × k and every offered rate ÷ k. The queueing problem is
 * the same (32 slots, the flood 1.25 × the cluster's capacity, the victim 1/32 of it), but the host has k times
 * fewer requests to carry: for a machine too small to serve 3,200 req/s of real reads (see docs/isolation.md).
 */
const scaleFlag = process.argv.indexOf("--scale");
const scale = scaleFlag > 0 ? Number(process.argv[scaleFlag + 1]) : 1;
if (!(scale >= 1)) throw new Error("--scale must be a number ≥ 1");
const serviceTimeMs = 10 * scale;
const victimRate = 100 / scale;
const aggressorRate = 4_000 / scale;
/** Measured victim seconds per window: ≥ 3,000 samples (a few more, in case some fail) */
const victimSeconds = quick ? 5 * scale : Math.ceil(3_050 / victimRate);
const floodLeadMs = 2_000;
const shareSeconds = quick ? 4 : 10;
/** A disturbed window is run again this many times (`--retries N`) */
const retriesFlag = process.argv.indexOf("--retries");
const retries = retriesFlag > 0 ? Number(process.argv[retriesFlag + 1]) : quick ? 0 : 2;

const unlimited = { apiRateLimit: 600_000, burst: 10_000, maxThroughputRps: 10_000, maxConcurrentReqs: 20_000 };
const tenants: TenantSpec[] = [
  // The victim is on a lower plan (weight 14) than the aggressor (40): fair queuing, not priority, protects it
  { name: "victim", plan: "professional", apiRateLimit: 12_000, burst: 200, maxThroughputRps: 300, maxConcurrentReqs: 200 },
  // 300,000 per minute with a burst of 5,000: the token bucket never stops 4,000 req/s against ~3,200 of capacity
  { name: "aggressor", plan: "enterprise", apiRateLimit: 300_000, burst: 5_000, maxThroughputRps: 5_000, maxConcurrentReqs: 20_000 },
  ...[1, 2, 3, 4].map((i): TenantSpec => ({ name: `sym-${i}`, plan: "basic", priority: 5, ...unlimited })),
  ...[1, 2, 4].map((w): TenantSpec => ({ name: `weight-${w}`, plan: "basic", priority: w, ...unlimited })),
];

const setupStarted = performance.now();
const cluster: IsoCluster = await startIsoCluster({ backends: 4, capacity: 8, serviceTimeMs, tenants, ...(process.env.BENCH_REDIS_URL ? { redisUrl: process.env.BENCH_REDIS_URL } : {}) });
// Ctrl-C or a kill still stops the mesh's processes and drops the scratch database
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cluster.close().finally(() => process.exit(130));
  });
}
const variants = [
  { name: "tenantmesh", origin: cluster.tenantmesh },
  { name: "naive", origin: cluster.naive },
] as const;
type Variant = (typeof variants)[number];
const t = (name: string) => cluster.tenants.get(name)!;
const stream = (v: Variant, tenant: string, rate: number, o: Partial<Stream> = {}): Stream => ({
  origin: v.origin,
  path: t(tenant).path,
  token: t(tenant).token,
  rate,
  offsetMs: 0,
  warmupMs: 0,
  durationMs: 1_000,
  maxConnections: 1_000,
  keepLatencies: false,
  ...o,
});
const window = (streams: Stream[]): Promise<WindowResult> => runWindow(streams, retries);
const disturbedNote = (w: WindowResult): string => (w.host.disturbed ? `DISTURBED (${w.host.why})` : w.attempts > 1 ? `clean on attempt ${w.attempts}` : "clean");

if (scale !== 1) console.log(`--scale ${scale}: service time ${serviceTimeMs} ms, victim ${victimRate} req/s, flood ${aggressorRate} req/s`);
console.log(`mesh up in ${((performance.now() - setupStarted) / 1000).toFixed(0)} s: control plane, 4 KYB backends on PostgreSQL, tenantmesh proxy, naive proxy; ${tenants.length} tenants provisioned`);
try {
  // Capacity: the aggressor alone, flooding, measured through each proxy; the larger goodput is what the cluster serves
  console.log(`calibration: aggressor alone at ${aggressorRate} req/s (what the cluster can serve on this machine)`);
  const capacity = new Map<string, number>();
  for (const v of variants) {
    // The mesh's processes and PostgreSQL: what one served request costs the server side, against one core
    const cpuBefore = cluster.cpuMs() + cpuMsOfCommand("postgres");
    const w = await window([stream(v, "aggressor", aggressorRate, { warmupMs: 2_000, durationMs: quick ? 5_000 : 8_000 })]);
    const s = w.streams[0]!;
    const served = Object.entries(s.codes).reduce((n, [code, count]) => (code.startsWith("2") ? n + count : n), 0);
    // Over the warm-up too (the CPU clock cannot tell it apart): served requests are scaled up by the same share
    const seconds = (2_000 + (quick ? 5_000 : 8_000)) / 1000;
    const cpuPerRequestMs = (cluster.cpuMs() + cpuMsOfCommand("postgres") - cpuBefore) / (served * (seconds / (seconds - 2)));
    capacity.set(v.name, s.goodput);
    console.log(`  ${v.name.padEnd(10)} goodput ${s.goodput.toFixed(0)} req/s, ${(cpuPerRequestMs * 1000).toFixed(0)} µs of server CPU per served request (one core carries ≈ ${(1000 / cpuPerRequestMs).toFixed(0)} req/s)  ${disturbedNote(w)}`);
  }
  const clusterCapacity = Math.max(...capacity.values());

  console.log(`\nnoisy neighbour: victim ${victimRate} req/s, alone and under a ${aggressorRate} req/s flood, ${reps} repetition(s)`);
  type Cell = { p50: number; p99: number; p999: number; samples: number; errors: number; aggressor: number; note: string };
  const codes = (c: Record<string, number>): string =>
    Object.entries(c)
      .sort()
      .map(([k, n]) => `${k}×${n}`)
      .join(" ");
  const cells = new Map<string, Cell[]>();
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      for (const condition of ["alone", "flood"] as const) {
        const victim = stream(v, "victim", victimRate, { offsetMs: condition === "flood" ? floodLeadMs : 0, warmupMs: 500, durationMs: victimSeconds * 1000 + 500, maxConnections: 200, keepLatencies: true });
        const streams = [victim];
        if (condition === "flood") streams.push(stream(v, "aggressor", aggressorRate, { warmupMs: floodLeadMs + 500, durationMs: floodLeadMs + victimSeconds * 1000 + 500 }));
        const w = await window(streams);
        const vs = w.streams[0]!;
        const lat = vs.latencies;
        const cell: Cell = {
          p50: quantile(lat, 0.5),
          p99: quantile(lat, 0.99),
          p999: quantile(lat, 0.999),
          samples: lat.length,
          errors: vs.sent - lat.length,
          aggressor: w.streams[1]?.goodput ?? 0,
          note: disturbedNote(w),
        };
        const key = `${v.name}/${condition}`;
        cells.set(key, [...(cells.get(key) ?? []), cell]);
        const failed = cell.errors ? ` (failed: ${codes(Object.fromEntries(Object.entries(vs.codes).filter(([k]) => !k.startsWith("2"))))})` : "";
        const flood = w.streams[1] ? `  aggressor goodput ${cell.aggressor.toFixed(0)}/s, answers ${codes(w.streams[1].codes)}` : "";
        console.log(`  rep ${r + 1} ${key.padEnd(17)} p50 ${cell.p50.toFixed(1)}  p99 ${cell.p99.toFixed(1)}  p99.9 ${cell.p999.toFixed(1)} ms  samples ${cell.samples}${failed}${flood}  ${cell.note}`);
      }
    }
  }

  const med = (key: string, f: (c: Cell) => number): number => median(cells.get(key)!.map(f));
  const rows = [...cells].map(([key, cs]) => [
    key,
    spread(cs.map((c) => c.p50), 1),
    spread(cs.map((c) => c.p99), 1),
    spread(cs.map((c) => c.p999), 1),
    String(Math.min(...cs.map((c) => c.samples))),
    key.endsWith("flood") ? spread(cs.map((c) => c.aggressor), 0) : "",
    cs.some((c) => c.note.startsWith("DISTURBED")) ? "disturbed" : "clean",
  ]);
  console.log(`\n${table(["victim through / condition", "p50 ms", "p99 ms", "p99.9 ms", "min samples", "aggressor goodput/s", "host"], rows)}`);

  const impact = (v: string): number => ((med(`${v}/flood`, (c) => c.p99) - med(`${v}/alone`, (c) => c.p99)) / med(`${v}/alone`, (c) => c.p99)) * 100;
  const left = clusterCapacity - victimRate;
  const aggressorShare = med("tenantmesh/flood", (c) => c.aggressor) / left;
  console.log(`\ncluster capacity measured ${clusterCapacity.toFixed(0)} req/s (tenantmesh ${capacity.get("tenantmesh")!.toFixed(0)}, naive ${capacity.get("naive")!.toFixed(0)}; nominal 4 × 8 / ${serviceTimeMs} ms = ${(3_200 / scale).toFixed(0)})`);
  console.log(`aggressor goodput through tenantmesh: ${(aggressorShare * 100).toFixed(1)}% of the ${left.toFixed(0)} req/s the victim leaves (goal ≥ 80%)`);

  // Symmetric: equal weights, unequal demands, all above their fair share
  const fair = clusterCapacity / 4;
  const shareStreams = (v: Variant, loads: Array<[string, number]>): Stream[] =>
    loads.map(([name, rate]) => stream(v, name, Math.round(rate), { warmupMs: 2_000, durationMs: 2_000 + shareSeconds * 1000, maxConnections: 500 }));
  const symLoads: Array<[string, number]> = [1.2, 1.6, 2.0, 2.4].map((f, i) => [`sym-${i + 1}`, f * fair]);
  const weights = [1, 2, 4];
  const wLoads: Array<[string, number]> = weights.map((w) => [`weight-${w}`, 1.5 * clusterCapacity * (w / 7)]);
  const jain = (x: number[]): number => x.reduce((a, b) => a + b, 0) ** 2 / (x.length * x.reduce((a, b) => a + b * b, 0));
  const symJain = new Map<string, number[]>();
  const wShares = new Map<string, number[][]>();
  for (let r = 0; r < reps; r++) {
    for (const v of variants) {
      const s = await window(shareStreams(v, symLoads));
      const goodput = s.streams.map((x) => x.goodput);
      symJain.set(v.name, [...(symJain.get(v.name) ?? []), jain(goodput)]);
      console.log(`  rep ${r + 1} symmetric ${v.name.padEnd(10)} goodput ${goodput.map((g) => g.toFixed(0)).join(" / ")} req/s  Jain ${jain(goodput).toFixed(3)}  ${disturbedNote(s)}`);
      const w = await window(shareStreams(v, wLoads));
      const g = w.streams.map((x) => x.goodput);
      const total = g.reduce((a, b) => a + b, 0);
      wShares.set(v.name, [...(wShares.get(v.name) ?? []), g.map((x) => x / total)]);
      console.log(`  rep ${r + 1} weighted  ${v.name.padEnd(10)} goodput ${g.map((x) => x.toFixed(0)).join(" / ")} req/s  shares ${g.map((x) => ((x / total) * 100).toFixed(1)).join(" / ")}%  ${disturbedNote(w)}`);
    }
  }
  const target = weights.map((w) => w / 7);
  const shareRows = variants.map((v) => {
    const shares = target.map((_, i) => median(wShares.get(v.name)!.map((s) => s[i]!)));
    const worst = Math.max(...shares.map((s, i) => Math.abs(s - target[i]!) / target[i]!));
    return [v.name, median(symJain.get(v.name)!).toFixed(3), shares.map((s) => `${(s * 100).toFixed(1)}%`).join(" / "), `${(worst * 100).toFixed(1)}%`];
  });
  console.log(`\nsymmetric: 4 equal-weight tenants offering ${symLoads.map(([, l]) => l.toFixed(0)).join(" / ")} req/s; weighted: weights 1 / 2 / 4 (target ${target.map((x) => `${(x * 100).toFixed(1)}%`).join(" / ")}), each offering 1.5 × its share`);
  console.log(table(["through", "Jain's index (goal ≥ 0.95)", "weighted shares", "worst share error (goal ≤ 5%)"], shareRows));

  console.log(`\nisolation: victim p99 impact ${impact("tenantmesh").toFixed(1)}% (naive ${impact("naive").toFixed(0)}%)`);
} finally {
  await cluster.close();
}
