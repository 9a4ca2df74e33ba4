/**
 * One measurement window of the isolation benchmark: a set of open-loop streams, each in its own generator
 * process on the load core (taskset -c 0), all sharing one start time; the host watched for disturbance
 * meanwhile. A disturbed window (listen-queue overflows, SYN retransmits, other work on the machine) is run
 * again, up to `retries` times, and reported as disturbed if it never ran clean.
 */
import { spawn } from "node:child_process";
import type { StreamResult, StreamSpec } from "./iso-open-loop.js";
import { disturbance, sampleHost, type Disturbance } from "./iso-host.js";
import { LOAD_CORE, pinned } from "./processes.js";

export interface Stream {
  readonly origin: string;
  readonly path: string;
  readonly token: string;
  readonly rate: number;
  /** Offset of this stream's first request from the window's start (ms) */
  readonly offsetMs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxConnections: number;
  readonly keepLatencies: boolean;
}

export interface WindowResult {
  readonly streams: StreamResult[];
  readonly host: Disturbance;
  /** Attempts made (1 when the first ran clean) */
  readonly attempts: number;
}

/** A generator dispatching a request later than this after its due time makes the window disturbed */
const maxSendLagMs = 250;

/** Starts one generator process and resolves with its result line */
function generate(spec: StreamSpec): Promise<StreamResult> {
  const [cmd, argv] = pinned(LOAD_CORE, process.execPath, ["--import", "tsx", "bench/support/iso-open-loop.ts", JSON.stringify(spec)]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`load generator failed (${code}): ${err || out}`));
      else resolve(JSON.parse(line) as StreamResult);
    });
  });
}

async function once(streams: readonly Stream[]): Promise<Omit<WindowResult, "attempts">> {
  // Generators need ~1 s to start (tsx), more when several start at once on the one load core; every stream
  // is scheduled from one shared epoch time after that
  const startAt = Date.now() + 1_500 + 500 * streams.length;
  // The host is watched over the measured part only: connection set-up during the warm-up is not a finding
  const measuredFrom = Math.max(...streams.map((s) => s.offsetMs + s.warmupMs));
  const before = new Promise<Awaited<ReturnType<typeof sampleHost>>>((resolve) =>
    setTimeout(() => resolve(sampleHost()), Math.max(0, startAt + measuredFrom - Date.now())),
  );
  const results = await Promise.all(
    streams.map((s) =>
      generate({
        origin: s.origin,
        path: s.path,
        token: s.token,
        rate: s.rate,
        startAt: startAt + s.offsetMs,
        warmupMs: s.warmupMs,
        durationMs: s.durationMs,
        maxConnections: s.maxConnections,
        keepLatencies: s.keepLatencies,
      }),
    ),
  );
  const after = await sampleHost();
  const host = disturbance(await before, after);
  // A generator that could not keep to its schedule (it started late, or its core was busy) sent in bursts and
  // counted completions outside its span: the window measured the generator, not the servers
  const late = results.map((r, i) => [i, r.maxSendLagMs] as const).filter(([, lag]) => lag > maxSendLagMs);
  if (late.length === 0) return { streams: results, host };
  const why = `load generator(s) behind schedule: ${late.map(([i, lag]) => `stream ${i + 1} by ${lag.toFixed(0)} ms`).join(", ")}`;
  return { streams: results, host: { ...host, disturbed: true, why: host.disturbed ? `${host.why}; ${why}` : why } };
}

/** Runs the window, again when disturbed (at most `retries` more times); a short pause lets queues drain first */
export async function runWindow(streams: readonly Stream[], retries: number): Promise<WindowResult> {
  let attempt = 0;
  for (;;) {
    attempt++;
    await new Promise((r) => setTimeout(r, 1_000));
    const result = await once(streams);
    if (!result.host.disturbed || attempt > retries) return { ...result, attempts: attempt };
    process.stdout.write(`  (disturbed: ${result.host.why}; running the window again)\n`);
  }
}
