import { performance } from "node:perf_hooks";
import { silentLogger, type Logger } from "../../src/log/index.js";
import type { Backend, BackendHealth } from "./backend.js";
import type { Probe } from "./probes.js";

/** Active health checking of one cluster (config `health_check`) */
export interface HealthCheckOptions {
  /** Time between the end of one check and the start of the next (default 1,000 ms) */
  readonly intervalMs?: number;
  /** A check not answered within this fails (default 500 ms) */
  readonly timeoutMs?: number;
  /** Consecutive passing checks that make a degraded or unhealthy backend healthy again (default 2) */
  readonly healthyThreshold?: number;
  /** Consecutive failing checks that make a backend unhealthy (default 2) */
  readonly unhealthyThreshold?: number;
  /** A passing check slower than this marks the backend degraded (default half of `timeoutMs`) */
  readonly slowMs?: number;
}

interface Tracked {
  successes: number;
  fastSuccesses: number;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
}

/**
 * Moves `Backend.health` by active checks, with hysteresis both ways:
 * - `healthy`: the last `healthyThreshold` checks passed, fast.
 * - `degraded`: checks are failing but fewer than `unhealthyThreshold` in a row, or they pass but slower than
 *   `slowMs`, or it is climbing back and has passed fewer than `healthyThreshold` fast checks. Balancers still
 *   use it, only as a fallback.
 * - `unhealthy`: `unhealthyThreshold` checks in a row failed; never picked until `healthyThreshold` pass.
 * One backend is checked at a time by a timer chain (never overlapping itself); a backend's first check runs
 * at once so a dead backend is found within one timeout of start-up or of joining.
 */
export class HealthChecker {
  private readonly tracked = new Map<Backend, Tracked>();
  private readonly manual = new WeakMap<Backend, Tracked>();
  private readonly o: Required<HealthCheckOptions>;
  private readonly log: Logger;
  private closed = false;

  constructor(
    private readonly probe: Probe,
    options: HealthCheckOptions = {},
    private readonly hooks: { readonly logger?: Logger; readonly cluster?: string; readonly onTransition?: (backend: Backend, from: BackendHealth, to: BackendHealth) => void } = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 500;
    this.o = {
      intervalMs: options.intervalMs ?? 1_000,
      timeoutMs,
      healthyThreshold: options.healthyThreshold ?? 2,
      unhealthyThreshold: options.unhealthyThreshold ?? 2,
      slowMs: options.slowMs ?? timeoutMs / 2,
    };
    this.log = (hooks.logger ?? silentLogger).child({ component: "health-check", cluster: hooks.cluster });
  }

  /** Starts checking the backends that joined and stops checking those that left */
  sync(backends: readonly Backend[]): void {
    const keep = new Set(backends);
    for (const b of [...this.tracked.keys()]) if (!keep.has(b)) this.unwatch(b);
    for (const b of backends) if (!this.tracked.has(b)) this.watch(b);
  }

  watch(backend: Backend): void {
    if (this.closed || this.tracked.has(backend)) return;
    this.tracked.set(backend, { successes: 0, fastSuccesses: 0, failures: 0, timer: undefined, abort: undefined });
    this.schedule(backend, 0);
  }

  unwatch(backend: Backend): void {
    const t = this.tracked.get(backend);
    if (t === undefined) return;
    clearTimeout(t.timer);
    t.abort?.abort();
    this.tracked.delete(backend);
    this.probe.release(backend);
  }

  /** Runs one check now and applies it; what the timer does, exposed for tests and manual probing */
  async checkNow(backend: Backend): Promise<BackendHealth> {
    let t = this.tracked.get(backend) ?? this.manual.get(backend);
    if (t === undefined) {
      // Checked by hand, not on a timer: counts still accumulate across calls
      t = { successes: 0, fastSuccesses: 0, failures: 0, timer: undefined, abort: undefined };
      this.manual.set(backend, t);
    }
    const abort = new AbortController();
    t.abort = abort;
    const timeout = setTimeout(() => abort.abort(), this.o.timeoutMs);
    const started = performance.now();
    const result = await this.probe.check(backend, abort.signal);
    clearTimeout(timeout);
    t.abort = undefined;
    const latency = result.latencyMs ?? performance.now() - started;
    const ok = result.ok && !abort.signal.aborted && latency <= this.o.timeoutMs;
    this.apply(backend, t, ok, latency, result.detail);
    return backend.health;
  }

  close(): void {
    this.closed = true;
    for (const b of [...this.tracked.keys()]) this.unwatch(b);
  }

  /** Checked backends, for the admin API */
  get watching(): number {
    return this.tracked.size;
  }

  private schedule(backend: Backend, delay: number): void {
    const t = this.tracked.get(backend);
    if (t === undefined) return;
    t.timer = setTimeout(() => {
      void this.checkNow(backend).finally(() => {
        if (this.tracked.get(backend) === t) this.schedule(backend, this.o.intervalMs);
      });
    }, delay);
    t.timer.unref();
  }

  private apply(backend: Backend, t: Tracked, ok: boolean, latencyMs: number, detail: string | undefined): void {
    const from = backend.health;
    let to = from;
    if (ok) {
      t.failures = 0;
      t.successes++;
      const fast = latencyMs <= this.o.slowMs;
      t.fastSuccesses = fast ? t.fastSuccesses + 1 : 0;
      if (!fast) {
        if (from === "healthy" || t.successes >= this.o.healthyThreshold) to = "degraded";
      } else if (from !== "healthy" && t.fastSuccesses >= this.o.healthyThreshold) {
        to = "healthy";
      }
    } else {
      t.successes = 0;
      t.fastSuccesses = 0;
      t.failures++;
      if (t.failures >= this.o.unhealthyThreshold) to = "unhealthy";
      else if (from === "healthy") to = "degraded";
    }
    if (to === from) return;
    backend.health = to;
    const fields = { backend: backend.id, address: backend.address, from, to, latencyMs: Math.round(latencyMs), detail };
    if (to === "unhealthy") this.log.warn(fields, "backend unhealthy");
    else this.log.info(fields, `backend ${to}`);
    this.hooks.onTransition?.(backend, from, to);
  }
}
