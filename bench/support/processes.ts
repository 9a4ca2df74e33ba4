import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { readdirSync, readFileSync } from "node:fs";

/** Core placement per ../shared/BENCHMARKING.md: load generators on core 0, every server on core 1 */
export const pinning = availableParallelism() >= 2;
export const LOAD_CORE = "0";
export const SERVER_CORE = "1";

/** A command prefixed with `taskset -c <core>` when the machine has two cores to separate */
export function pinned(core: string, command: string, args: readonly string[]): [string, string[]] {
  return pinning ? ["taskset", ["-c", core, command, ...args]] : [command, [...args]];
}

export interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  /** The words after "ready" on the line the process printed once listening */
  readonly ready: readonly string[];
  /** CPU time (user + system) the process has used so far, in ms */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <script> …args` pinned to the server core; resolves once it prints `ready …` */
export async function startServer(name: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const [cmd, argv] = pinned(SERVER_CORE, process.execPath, ["--import", "tsx", script, ...args]);
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const ready = await new Promise<string[]>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${log}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("ready"));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line.split(" ").slice(1));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${log}`));
    });
  });
  // The real node process is taskset's child (taskset execs, so it is the same pid)
  const pid = child.pid ?? 0;
  return {
    name,
    child,
    ready,
    cpuMs: () => cpuMsOf(pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

/** utime + stime of a process from /proc, in ms (clock ticks are 10 ms on Linux) */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU ms used so far by every process whose command name is `comm` (e.g. "postgres": the server and its backends) */
export function cpuMsOfCommand(comm: string): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === comm) total += cpuMsOf(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Runs a command to completion, returning stdout (stderr on failure) */
export function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}: ${err || out}`))));
  });
}

/** The 1-minute load average: other work on the machine skews results, so each round reports it */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}
