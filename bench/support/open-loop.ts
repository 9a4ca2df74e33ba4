/**
 * An open-loop HTTP load generator for bench/overhead.bench.ts:
 * `node --import tsx bench/support/open-loop.ts <url> <req/s> <seconds> <warm-up seconds> '<headers json>'`.
 *
 * RECONSTRUCTED: the original of this file was overwritten by mistake while the isolation benchmark was being
 * written (that benchmark's generator is iso-open-loop.ts). This version keeps the contract its caller uses —
 * the arguments above and a last stdout line `{"p50","p99","p999","errors",…}` in milliseconds — and the
 * method of ../../shared/BENCHMARKING.md: request i is due at start + i / rate and is sent then whatever the
 * earlier ones did; latency is measured from that scheduled time, so queueing shows. Requests due during the
 * warm-up are sent but not measured. A non-2xx answer or a socket error counts as an error.
 */
import { Pool } from "undici";
import { quantile } from "./stats.js";

const [urlArg = "", rateArg = "1000", secondsArg = "5", warmupArg = "1", headersArg = "{}"] = process.argv.slice(2);
const url = new URL(urlArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const warmupSeconds = Number(warmupArg);
const headers = JSON.parse(headersArg) as Record<string, string>;
if (!(rate > 0) || !(seconds > 0) || !(warmupSeconds >= 0)) {
  console.error("usage: open-loop.ts <url> <req/s> <seconds> <warm-up seconds> [headers json]");
  process.exit(2);
}

// Enough connections that the pool itself rarely queues at the rates the overhead bench uses
const pool = new Pool(url.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
const path = `${url.pathname}${url.search}`;
const interval = 1000 / rate;
const warm = Math.floor(warmupSeconds * rate);
const total = warm + Math.floor(seconds * rate);
const latencies: number[] = [];
let errors = 0;
let sent = 0;
let pending = 0;
let start = 0;

function fire(i: number): void {
  const due = start + i * interval;
  pending++;
  pool.request({ path, method: "GET", headers }).then(
    async (res) => {
      await res.body.dump();
      settle(i, due, res.statusCode >= 200 && res.statusCode < 300);
    },
    () => settle(i, due, false),
  );
}

function settle(i: number, due: number, ok: boolean): void {
  pending--;
  if (i >= warm) {
    if (ok) latencies.push(performance.now() - due);
    else errors++;
  }
  if (sent >= total && pending === 0) finish();
}

function tick(): void {
  const now = performance.now();
  while (sent < total && start + sent * interval <= now) fire(sent++);
  if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, start + sent * interval - performance.now())));
  else if (pending === 0) finish();
}

function finish(): void {
  latencies.sort((a, b) => a - b);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  const result = { p50: round(quantile(latencies, 0.5)), p99: round(quantile(latencies, 0.99)), p999: round(quantile(latencies, 0.999)), errors, requests: total - warm };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  void pool.close().finally(() => process.exit(0));
}

start = performance.now() + 10;
setTimeout(tick, 10);
