/**
 * Provisioning latency on the embedded database: `npm run bench:provision [-- --count N]`.
 *
 * Starts an in-process control plane on an in-memory PGlite, provisions a short warm-up, then `count` tenants
 * (default 1,000) one after another over gRPC as the operator, each with an admin password (so each pays one
 * scrypt hash, as a real provisioning does), and prints the latency distribution. The last line is the one
 * CI greps: `provision: p99 X ms, Y tenants/s`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/index.js";
import { startControlPlane } from "../src/control-plane/index.js";
import { defaultRoles, openDatabase } from "../src/db/index.js";
import { silentLogger } from "../src/log/index.js";
import { provision, tenantClient } from "../src/tenants/testing.js";

const { values } = parseArgs({ options: { count: { type: "string", default: "1000" }, warmup: { type: "string", default: "20" } } });
const count = Number(values.count);
const warmup = Number(values.warmup);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(warmup) || warmup < 0) {
  console.error("usage: provision.bench.ts [--count N] [--warmup N]");
  process.exit(2);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-bench-"));
const config = loadConfig(
  { TENANTMESH_DATA_DIR: dataDir, TENANTMESH_GRPC_HOST: "127.0.0.1", TENANTMESH_GRPC_PORT: "0", LOG_LEVEL: "silent" },
  { inMemoryDatabase: true },
);
const db = openDatabase({ kind: "pglite", dataDir: undefined, ...defaultRoles });
const cp = await startControlPlane(config, { logger: silentLogger, db });
await cp.ready;
const client = tenantClient(`127.0.0.1:${cp.port}`);
const token = cp.secrets.adminToken;

const run = (prefix: string, i: number) =>
  provision(client, token, { slug: `${prefix}-${i}`, adminEmail: `admin@${prefix}-${i}.example.test`, adminPassword: "Bench-password-123" });

for (let i = 0; i < warmup; i++) await run("warm", i);

const latencies: number[] = [];
const started = performance.now();
for (let i = 0; i < count; i++) {
  const t0 = performance.now();
  await run("bench", i);
  latencies.push(performance.now() - t0);
}
const seconds = (performance.now() - started) / 1000;

latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
const ms = (v: number): string => v.toFixed(1);
const rate = count / seconds;
console.table([
  {
    count,
    "tenants/s": rate.toFixed(1),
    "p50 ms": ms(pct(50)),
    "p90 ms": ms(pct(90)),
    "p99 ms": ms(pct(99)),
    "max ms": ms(latencies.at(-1) ?? 0),
  },
]);

client.close();
await cp.close();
await db.close();
rmSync(dataDir, { recursive: true, force: true });
console.log(`provision: p99 ${ms(pct(99))} ms, ${rate.toFixed(1)} tenants/s`);
