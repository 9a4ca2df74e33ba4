import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOAD_CORE, pinned, run } from "./processes.js";
import { quantile } from "./stats.js";

/** One closed-loop measurement */
export interface LoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests that failed (socket errors, non-2xx, failed streams): a run with any is not a valid sample */
  readonly errors: number;
  readonly requests: number;
}

const toMs = (value: string, unit: string): number => Number(value) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : 1);

/** `wrk -t1 -c<connections> -d<seconds>s --latency` pinned to the load core */
export async function wrk(url: string, headers: Record<string, string>, seconds: number, connections = 50): Promise<LoadResult> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]), url];
  const [cmd, argv] = pinned(LOAD_CORE, "wrk", args);
  const out = await run(cmd, argv);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    return m ? toMs(m[1]!, m[2]!) : Number.NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: pct("50"),
    p99Ms: pct("99"),
    // A run that served nothing is a broken variant, never a fast one
    errors: non2xx + (socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0) + (requests === 0 ? 1 : 0),
    requests,
  };
}

/**
 * `h2load -c1 -m<streams>` on one connection, POSTing a pre-encoded gRPC message, after a warm-up. Latency
 * percentiles come from h2load's per-request log, since its summary has none.
 */
export async function h2load(url: string, headers: Record<string, string>, bodyFile: string, seconds: number, warmupSeconds: number, streams = 50): Promise<LoadResult> {
  const log = join(tmpdir(), `h2load-${process.pid}-${Date.now()}.log`);
  const args = [
    "-c1",
    `-m${streams}`,
    `-D`,
    String(seconds),
    `--warm-up-time=${warmupSeconds}`,
    "-d",
    bodyFile,
    `--log-file=${log}`,
    ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
    url,
  ];
  const [cmd, argv] = pinned(LOAD_CORE, "h2load", args);
  const out = await run(cmd, argv);
  // The log also holds the warm-up's requests: keep those that started within the measured window
  const entries = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split("\t").map(Number));
  // reduce, not Math.max(...): a 10 s run logs more entries than a call's arguments may hold
  const lastStart = entries.reduce((max, e) => Math.max(max, e[0] ?? 0), 0);
  const durations = entries
    .filter((e) => (e[0] ?? 0) >= lastStart - seconds * 1e6)
    .map((e) => (e[2] ?? 0) / 1000)
    .sort((a, b) => a - b);
  rmSync(log, { force: true });
  const failed = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored/.exec(out);
  return {
    rps: Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: quantile(durations, 0.5),
    p99Ms: quantile(durations, 0.99),
    errors: (failed ? Number(failed[1]) + Number(failed[2]) : 1) + (durations.length === 0 ? 1 : 0),
    requests: durations.length,
  };
}
