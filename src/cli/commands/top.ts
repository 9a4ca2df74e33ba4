import { credentials, type Metadata } from "@grpc/grpc-js";
import type { Command } from "commander";
import { TenantMeshError } from "../../errors/index.js";
import { MonitorServiceClient, type TenantMetricsRow } from "../../gen/tenantmesh/v1/monitor.js";
import { unary, type ClientOptions } from "../client.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** The columns of `tenantmesh top`, in order; each sorts by its own key (descending, except tenant) */
const columns = [
  { key: "tenant", title: "TENANT", value: (r: TenantMetricsRow) => r.slug || r.tenantId },
  { key: "rps", title: "RPS", value: (r: TenantMetricsRow) => r.metrics?.throughputRps ?? 0, format: (v: number) => v.toFixed(1) },
  { key: "p50", title: "P50 MS", value: (r: TenantMetricsRow) => r.metrics?.p50Ms ?? 0, format: (v: number) => v.toFixed(1) },
  { key: "p99", title: "P99 MS", value: (r: TenantMetricsRow) => r.metrics?.p99Ms ?? 0, format: (v: number) => v.toFixed(1) },
  { key: "errors", title: "ERR %", value: (r: TenantMetricsRow) => (r.metrics?.errorRate ?? 0) * 100, format: (v: number) => v.toFixed(1) },
  { key: "throttled", title: "THR %", value: (r: TenantMetricsRow) => (r.metrics?.throttleRate ?? 0) * 100, format: (v: number) => v.toFixed(1) },
  { key: "queue", title: "QUEUE MS", value: (r: TenantMetricsRow) => r.metrics?.queueWaitMs ?? 0, format: (v: number) => v.toFixed(1) },
  { key: "scale", title: "SCALE", value: (r: TenantMetricsRow) => r.scale, format: (v: number, r: TenantMetricsRow) => `${v} (${r.scaleMin}-${r.scaleMax})` },
  { key: "alerts", title: "ALERTS", value: (r: TenantMetricsRow) => r.openAlerts, format: (v: number) => (v === 0 ? "" : String(v)) },
] as const;

export type SortKey = (typeof columns)[number]["key"];
export const sortKeys: readonly SortKey[] = columns.map((c) => c.key);

/** One frame of the table, rows sorted by `sort`; pure, so tests and `--once` print exactly what the live view shows */
export function renderTop(rows: readonly TenantMetricsRow[], sort: SortKey, windowSeconds: number, at: Date): string {
  const col = columns.find((c) => c.key === sort) ?? columns[1];
  const sorted = [...rows].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    return typeof va === "string" ? va.localeCompare(vb as string) : (vb as number) - va;
  });
  const cells = sorted.map((r) => columns.map((c) => {
    const v = c.value(r);
    return "format" in c ? (c.format as (v: number, r: TenantMetricsRow) => string)(v as number, r) : String(v);
  }));
  const titles = columns.map((c) => (c.key === sort ? `${c.title}▼` : c.title));
  const widths = titles.map((t, i) => Math.max(t.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  const header = `tenantmesh top — ${rows.length} tenant(s) with traffic in the last ${windowSeconds} s — ${at.toISOString()} — sort: ${sort}`;
  return [header, "", line(titles), ...cells.map(line), ""].join("\n");
}

async function fetchRows(client: MonitorServiceClient, md: Metadata, windowSeconds: number): Promise<TenantMetricsRow[]> {
  const res = await unary(client, client.listTenantMetrics, { windowSeconds }, md, 10_000);
  return res.tenants;
}

/**
 * `tenantmesh top`: a live table of tenants (rps, p50, p99, errors, throttled, queue wait, scale, alerts),
 * redrawn in place every `--interval` seconds. On a terminal, `s` moves the sort column, `q` quits. `--once`
 * prints one frame and exits (for scripts; with `--json`, the rows as JSON).
 */
export function registerTopCommand(program: Command): void {
  clientOptions(program.command("top").description("live table of tenants: rps, latency, errors, throttling, queueing, scale (operator)"))
    .option("--window <seconds>", "metrics window", "60")
    .option("--interval <seconds>", "refresh period", "2")
    .option("--sort <column>", `one of ${sortKeys.join(", ")}`, "rps")
    .option("--once", "print one frame and exit")
    .action(async (_o, cmd: Command) => {
      const o = optsOf<ClientOptions & { window: string; interval: string; sort: string; once?: boolean }>(cmd);
      if (!(sortKeys as readonly string[]).includes(o.sort)) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `--sort must be one of ${sortKeys.join(", ")}`);
      const windowSeconds = Number(o.window);
      const intervalMs = Number(o.interval) * 1_000;
      if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || !(intervalMs >= 200)) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "--window must be a whole number of seconds and --interval at least 0.2");
      await withClients(o, async (c) => {
        const client = new MonitorServiceClient(o.addr, credentials.createInsecure());
        try {
          let sort = o.sort as SortKey;
          if (o.once || !process.stdout.isTTY) {
            const rows = await fetchRows(client, c.metadata, windowSeconds);
            process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : renderTop(rows, sort, windowSeconds, new Date()));
            return;
          }
          await live(async () => {
            const rows = await fetchRows(client, c.metadata, windowSeconds);
            // Cursor home, the frame, then clear what the previous (longer) frame left below it.
            process.stdout.write(`\x1b[H${renderTop(rows, sort, windowSeconds, new Date()).replaceAll("\n", "\x1b[K\n")}\x1b[J`);
          }, intervalMs, () => (sort = sortKeys[(sortKeys.indexOf(sort) + 1) % sortKeys.length]!));
        } finally {
          client.close();
        }
      });
    });
}

/** Redraws until `q`, Ctrl-C or an error; `s` calls `nextSort` and redraws at once */
async function live(draw: () => Promise<void>, intervalMs: number, nextSort: () => void): Promise<void> {
  const stdin = process.stdin;
  process.stdout.write("\x1b[?25l\x1b[2J");
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (err?: unknown): void => {
      clearTimeout(timer);
      stdin.off("data", onKey);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write("\x1b[?25h\n");
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const tick = (): void => {
      draw().then(() => (timer = setTimeout(tick, intervalMs)), stop);
    };
    const onKey = (key: Buffer): void => {
      const k = key.toString();
      if (k === "q" || k === "\u0003") return stop();
      if (k === "s") {
        nextSort();
        clearTimeout(timer);
        tick();
      }
    };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onKey);
    tick();
  });
}
