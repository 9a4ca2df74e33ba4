/**
 * Whether a benchmark window measured the mesh or something else on the machine: the kernel's listen-queue
 * counters (a window with listen overflows, drops or SYN retransmits measures the kernel) and the CPU used by
 * processes that are not the benchmark's (another job on this shared 2-vCPU machine skews every latency).
 */
import { readdirSync, readFileSync } from "node:fs";
import { run } from "./processes.js";

const counters = ["TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPSynRetrans"] as const;
export type KernelCounters = Record<(typeof counters)[number], number>;

/** Absolute values of the listen-queue counters (`nstat -az`, which leaves nstat's history alone) */
export async function kernelCounters(): Promise<KernelCounters> {
  const out = await run("nstat", ["-az", ...counters]).catch(() => "");
  const values = Object.fromEntries(counters.map((c) => [c, 0])) as KernelCounters;
  for (const line of out.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name !== undefined && name in values) values[name as keyof KernelCounters] = Number(value);
  }
  return values;
}

interface Proc {
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime, ms */
  readonly cpu: number;
}

/** Every process: parent, command and CPU ms so far */
function processTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(entry), { ppid: Number(f[1]), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), cpu: (Number(f[11]) + Number(f[12])) * 10 });
    } catch {
      // the process ended meanwhile
    }
  }
  return table;
}

/** Hypervisor steal time of the whole machine, ms (CPU the host gave to other guests) */
function stealMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  return Number(fields[8] ?? 0) * 10;
}

export interface HostSample {
  readonly at: number;
  readonly kernel: KernelCounters;
  readonly procs: Map<number, Proc>;
  readonly steal: number;
}

export async function sampleHost(): Promise<HostSample> {
  return { at: performance.now(), kernel: await kernelCounters(), procs: processTable(), steal: stealMs() };
}

/**
 * CPU ms used between two samples by processes that are not the benchmark's: not this process, not one of
 * its descendants (servers, load generators), not PostgreSQL (which the benchmark loads). Processes alive in
 * both samples count their difference, those born meanwhile all of theirs.
 */
function foreignMs(before: HostSample, after: HostSample): number {
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      const proc = after.procs.get(p) ?? before.procs.get(p);
      if (proc === undefined) return false;
      if (proc.comm === "postgres") return true;
      p = proc.ppid;
    }
    return false;
  };
  let total = 0;
  for (const [pid, proc] of after.procs) {
    if (ours(pid)) continue;
    total += Math.max(0, proc.cpu - (before.procs.get(pid)?.cpu ?? 0));
  }
  return total + Math.max(0, after.steal - before.steal);
}

export interface Disturbance {
  readonly listenOverflows: number;
  readonly listenDrops: number;
  readonly synRetrans: number;
  /** Average cores used by processes that are not the benchmark's */
  readonly foreignCores: number;
  readonly disturbed: boolean;
  readonly why: string;
}

/** What happened between two samples; disturbed when the kernel dropped connections or others used > 0.15 core (incl. steal) */
export function disturbance(before: HostSample, after: HostSample, maxForeignCores = 0.15): Disturbance {
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  const d = (k: keyof KernelCounters): number => after.kernel[k] - before.kernel[k];
  const foreignCores = foreignMs(before, after) / 1000 / seconds;
  const reasons: string[] = [];
  if (d("TcpExtListenOverflows") > 0 || d("TcpExtListenDrops") > 0) reasons.push(`listen overflows ${d("TcpExtListenOverflows")}, drops ${d("TcpExtListenDrops")}`);
  if (d("TcpExtTCPSynRetrans") > 0) reasons.push(`SYN retransmits ${d("TcpExtTCPSynRetrans")}`);
  if (foreignCores > maxForeignCores) reasons.push(`other processes used ${foreignCores.toFixed(2)} cores`);
  return {
    listenOverflows: d("TcpExtListenOverflows"),
    listenDrops: d("TcpExtListenDrops"),
    synRetrans: d("TcpExtTCPSynRetrans"),
    foreignCores,
    disturbed: reasons.length > 0,
    why: reasons.join("; "),
  };
}
