/**
 * An open-loop load generator, one process per traffic stream (the isolation benchmark pins it to the
 * load-generator core): `node --import tsx bench/support/iso-open-loop.ts '<json StreamSpec>'`.
 *
 * Request i is due at `startAt + i / rate` and is sent then whatever happened to the earlier ones (open loop:
 * a slow server does not slow the arrivals down, as real clients would not). Latency is measured from that
 * scheduled time to the end of the response, so time spent queued anywhere — in this process's connection
 * pool included — counts. Connections are capped (`maxConnections`) so the kernel's listen queue is not
 * overrun; requests beyond the cap wait in the pool, in the latency. Prints one JSON line (StreamResult).
 */
import { Pool } from "undici";

export interface StreamSpec {
  /** http://host:port */
  readonly origin: string;
  readonly path: string;
  readonly token: string;
  /** Requests per second */
  readonly rate: number;
  /** Epoch ms of the first request; all streams of a window share it */
  readonly startAt: number;
  /** Requests due before startAt + warmupMs are sent but not measured */
  readonly warmupMs: number;
  /** Sending stops at startAt + durationMs */
  readonly durationMs: number;
  readonly maxConnections: number;
  /** Keep every latency (the victim) or only counts and a latency summary (an aggressor) */
  readonly keepLatencies: boolean;
}

export interface StreamResult {
  /** Measured requests (due after the warm-up) */
  readonly sent: number;
  /** Status code (or "error") → count, measured requests only */
  readonly codes: Record<string, number>;
  /** 2xx responses completed per second during the measured span (completion time, so a backlog served after the window does not count) */
  readonly goodput: number;
  /** Latencies (ms, from scheduled time) of measured 2xx responses, when kept */
  readonly latencies: number[];
  /** Median and p99 of measured 2xx latencies (ms) */
  readonly p50: number;
  readonly p99: number;
  /** The largest lag between a request's due time and its dispatch (ms): the generator keeping up */
  readonly maxSendLagMs: number;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as StreamSpec;
const pool = new Pool(spec.origin, { connections: spec.maxConnections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
const headers = { authorization: `Bearer ${spec.token}` };

// performance.now() is monotonic; the shared epoch start is translated into it once
const base = performance.now() + (spec.startAt - Date.now());
const interval = 1000 / spec.rate;
const total = Math.floor((spec.durationMs / 1000) * spec.rate);
const measuredFrom = Math.ceil((spec.warmupMs / 1000) * spec.rate);
const codes: Record<string, number> = {};
const latencies: number[] = [];
let completedInSpan = 0;
let pending = 0;
let next = 0;
let maxLag = 0;

function fire(i: number): void {
  const due = base + i * interval;
  const lag = performance.now() - due;
  if (i >= measuredFrom && lag > maxLag) maxLag = lag;
  pending++;
  pool.request({ path: spec.path, method: "GET", headers }).then(
    async (res) => {
      await res.body.dump();
      done(i, due, String(res.statusCode), res.statusCode >= 200 && res.statusCode < 300);
    },
    () => done(i, due, "error", false),
  );
}

const spanStart = base + spec.warmupMs;
const spanEnd = base + spec.durationMs;

function done(i: number, due: number, code: string, success: boolean): void {
  pending--;
  const now = performance.now();
  if (success && now >= spanStart && now <= spanEnd) completedInSpan++;
  if (i >= measuredFrom) {
    codes[code] = (codes[code] ?? 0) + 1;
    if (success) latencies.push(now - due);
  }
  if (next >= total && pending === 0) finish();
}

function tick(): void {
  const now = performance.now();
  while (next < total && base + next * interval <= now) fire(next++);
  if (next < total) setTimeout(tick, Math.max(0, Math.min(1, base + next * interval - performance.now())));
  else if (pending === 0) finish();
}

function finish(): void {
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? Number.NaN;
  const measuredSeconds = (spec.durationMs - spec.warmupMs) / 1000;
  const result: StreamResult = {
    sent: total - measuredFrom,
    codes,
    goodput: completedInSpan / measuredSeconds,
    latencies: spec.keepLatencies ? latencies.map((l) => Math.round(l * 1000) / 1000) : [],
    p50: pct(50),
    p99: pct(99),
    maxSendLagMs: Math.round(maxLag * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  void pool.close().finally(() => process.exit(0));
}

setTimeout(tick, Math.max(0, base - performance.now()));
