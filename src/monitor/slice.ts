import type { SliceFactory } from "../control-plane/deps.js";
import type { Database } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { ScalingManager, type ScalingConfig, type ScalingExecutor } from "../scaling/index.js";
import type { AlertConfig } from "./alert-rules.js";
import { evaluateAlerts } from "./alerts.js";
import { monitorServiceImplementation, MonitorServiceService } from "./grpc.js";
import { deleteWindowsBefore, downsample } from "./store.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Tunables of the monitor slice; the defaults are what `monitorSlice` uses */
export interface MonitorSliceOptions {
  /** How often alerts and the scaler are evaluated (default 15 s); 0 turns both jobs off */
  evaluateIntervalMs?: number;
  /** The window of metrics alerts look at (default 60 s) */
  alertPeriodMs?: number;
  alerts?: AlertConfig;
  scaling?: ScalingConfig;
  /** Executors after the built-in proxy-share one (e.g. KubernetesDeploymentExecutor) */
  executors?: readonly ScalingExecutor[];
  /** How often stored windows are downsampled and expired (default 10 min; 0: never) */
  rollupIntervalMs?: number;
  /** Raw windows older than this become 1-minute windows (default 6 h), those older than `hourlyAfterMs` hourly (7 d) */
  minutelyAfterMs?: number;
  hourlyAfterMs?: number;
  /** Windows older than this are deleted (default 30 d) */
  retentionMs?: number;
}

/** One rollup pass: downsampling by exact histogram merges, then retention */
export async function rollupWindows(db: Database, now: number, options: MonitorSliceOptions = {}): Promise<number> {
  return db.asPlatform(async (trx) => {
    let n = await downsample(trx, new Date(now - (options.minutelyAfterMs ?? 6 * HOUR)), 60);
    n += await downsample(trx, new Date(now - (options.hourlyAfterMs ?? 7 * DAY)), 3_600);
    return n + (await deleteWindowsBefore(trx, new Date(now - (options.retentionMs ?? 30 * DAY))));
  });
}

/** Runs `job` every `ms` (never two at once), logging failures; returns the stopper */
function every(ms: number, log: Logger, name: string, job: () => Promise<unknown>): () => void {
  if (ms <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    job()
      .catch((err: unknown) => log.warn({ err: (err as Error).message, job: name }, "monitor job failed"))
      .finally(() => (running = false));
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Builds the monitor slice: tenantmesh.v1.MonitorService, and the jobs behind it — alert evaluation and the
 * per-tenant scaler (every `evaluateIntervalMs`), and window downsampling and retention. Every control-plane
 * replica runs them; they are safe to run concurrently (alerts have one open row per condition, scale
 * changes are conditional updates).
 */
export function createMonitorSlice(options: MonitorSliceOptions = {}): SliceFactory {
  return ({ db, kit, clock, logger }) => {
    const log = logger.child({ slice: "monitor" });
    const scaler = new ScalingManager({ db, clock, log, ...(options.scaling ? { config: options.scaling } : {}), ...(options.executors ? { executors: options.executors } : {}) });
    const interval = options.evaluateIntervalMs ?? 15_000;
    const stops = [
      every(interval, log, "alerts", () => evaluateAlerts(db, clock.now(), options.alertPeriodMs ?? 60_000, options.alerts)),
      every(interval, log, "scaler", () => scaler.evaluate()),
      every(options.rollupIntervalMs ?? 10 * 60_000, log, "rollup", () => rollupWindows(db, clock.now(), options)),
    ];
    return {
      services: [{ name: "tenantmesh.v1.MonitorService", definition: MonitorServiceService, implementation: monitorServiceImplementation(kit, { db, clock }) }],
      protoFiles: ["tenantmesh/v1/monitor.proto"],
      async close() {
        for (const stop of stops) stop();
      },
    };
  };
}

/** The monitor slice with default settings, as listed in control-plane/slices.ts */
export const monitorSlice: SliceFactory = createMonitorSlice();
