/**
 * Usage ingestion on the embedded database: `npm run bench:metering [-- --quick] [-- --concurrency N]`.
 *
 * Starts an in-process control plane on an in-memory PGlite with 1,000 tenants, then sends a million usage
 * events (one per usage occurrence, spread over 1,000 tenants × 4 resource types × 48 hours, in time order) as
 * RecordUsage batches of 500 over gRPC with a service token, `concurrency` batches in flight (several proxies
 * flushing at once). Every 10th batch is sent a second time, later, as a crashed sender's replay would be: those
 * must come back `duplicate` and count nothing. Then every hour, day and month rollup is read back and compared
 * with the sums of the events sent. `drift` is the sum of |rollup − expected| over all cells (0 = exact).
 *
 * `--quick`: 100,000 events over 100 tenants (CI). The last line is the one CI greps:
 * `metering: X events/s, drift D`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fork } from "node:child_process";
import { loadConfig } from "../src/config/index.js";
import { issueServiceToken, startControlPlane } from "../src/control-plane/index.js";
import { defaultRoles, openDatabase } from "../src/db/index.js";
import { silentLogger } from "../src/log/index.js";
import { ingestorFor } from "../src/metering/index.js";
import { expectedRollups, type LoadShape } from "./support/usage-load.js";
import type { SenderJob, SenderResult } from "./support/usage-sender.js";

/** Runs the load generator in its own process and waits for its counts */
function runSender(job: SenderJob): Promise<SenderResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL("./support/usage-sender.ts", import.meta.url), [JSON.stringify(job)], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as SenderResult) : reject(new Error(`the load generator exited with ${code}`))));
  });
}

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, concurrency: { type: "string", default: "48" } } });
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error("usage: metering.bench.ts [--quick] [--concurrency N]");
  process.exit(2);
}
const quick = values.quick === true;
const tenantCount = quick ? 100 : 1_000;
const eventCount = quick ? 100_000 : 1_000_000;
const BATCH = 500;
const HOURS = 48;

const dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-bench-"));
const config = loadConfig(
  { TENANTMESH_DATA_DIR: dataDir, TENANTMESH_GRPC_HOST: "127.0.0.1", TENANTMESH_GRPC_PORT: "0", LOG_LEVEL: "silent" },
  { inMemoryDatabase: true },
);
const db = openDatabase({ kind: "pglite", dataDir: undefined, ...defaultRoles });
const cp = await startControlPlane(config, { logger: silentLogger, db });
await cp.ready;

const tenants = await db.asPlatform(async (trx) => {
  const rows = Array.from({ length: tenantCount }, (_, i) => ({ name: `Bench ${i}`, slug: `bench-${i}`, plan_type: "basic" }));
  const ids: string[] = [];
  for (let i = 0; i < rows.length; i += 500) ids.push(...((await trx("tenants").insert(rows.slice(i, i + 500)).returning("id")) as Array<{ id: string }>).map((r) => r.id));
  return ids;
});
// Provisioning gives a tenant its encryption keys; tenants inserted raw get them from the security slice's
// catch-up job, which would otherwise run inside the measured window. Made here, before the clock starts.
for (const id of tenants) await cp.security.keyring.tenant(id);
const hourMs = 3_600_000;
const shape: LoadShape = { tenants, hours: HOURS, events: eventCount, startMs: Math.floor(Date.now() / hourMs) * hourMs - HOURS * hourMs };

const job: SenderJob = {
  address: `127.0.0.1:${cp.port}`,
  token: issueServiceToken(cp.secrets, "bench-proxy", ["usage:write"]),
  shape,
  batchSize: BATCH,
  concurrency,
  connections: Math.min(concurrency, 64),
  runId: Date.now().toString(36),
  replayEvery: 10,
  replayLag: 5 * concurrency,
};
const cpuBefore = process.cpuUsage();
const sender = await runSender(job);
// Ingested means rolled up: the clock stops when the last acknowledged batch is in the hour/day/month rows.
const settleStarted = performance.now();
await ingestorFor(db, silentLogger).settle();
const settleSeconds = (performance.now() - settleStarted) / 1000;
const cpu = process.cpuUsage(cpuBefore);
// The control plane's own CPU time: on a shared, busy machine the wall-clock rate understates what it can do.
const serverCpuSeconds = (cpu.user + cpu.system) / 1e6;
const batches = sender.batches;

// Drift: every rollup row against the sums of the events sent.
const expected = expectedRollups(shape);
const rows = (await db.asPlatform((trx) => trx("tenant_resource_usage").select("tenant_id", "resource_type", "granularity", "usage_period", "usage_count"))) as Array<{
  tenant_id: string;
  resource_type: string;
  granularity: string;
  usage_period: Date;
  usage_count: number | string;
}>;
let drift = 0;
const seen = new Set<string>();
const mismatches: string[] = [];
for (const r of rows) {
  const key = `${r.tenant_id}|${r.resource_type}|${r.granularity}|${new Date(r.usage_period).getTime()}`;
  seen.add(key);
  const off = Math.abs(Number(r.usage_count) - (expected.get(key) ?? 0));
  if (off > 0 && mismatches.length < 10) mismatches.push(`${key}: ${r.usage_count} vs ${expected.get(key) ?? 0}`);
  drift += off;
}
for (const [key, amount] of expected) {
  if (seen.has(key)) continue;
  if (mismatches.length < 10) mismatches.push(`${key}: missing, expected ${amount}`);
  drift += amount;
}
if (mismatches.length > 0) console.error(`rollups that differ from the events sent:\n  ${mismatches.join("\n  ")}`);

const seconds = sender.seconds + settleSeconds;
const { accepted, duplicates, wrongAnswers } = sender;
const rate = eventCount / seconds;
console.table([
  {
    events: eventCount,
    tenants: tenantCount,
    batches,
    replayed: sender.replayed,
    concurrency,
    seconds: seconds.toFixed(2),
    "of which settling": settleSeconds.toFixed(2),
    "events/s": Math.round(rate),
    "server CPU s": serverCpuSeconds.toFixed(2),
    "events per server CPU s": Math.round(eventCount / serverCpuSeconds),
    accepted,
    duplicates,
    "batches not applied exactly once": wrongAnswers,
    "rollup rows": rows.length,
  },
]);
await cp.close();
await db.close();
rmSync(dataDir, { recursive: true, force: true });
if (accepted !== eventCount || wrongAnswers > 0) drift += Math.abs(eventCount - accepted) + wrongAnswers;
console.log(`metering: ${Math.round(rate)} events/s, drift ${drift}`);
