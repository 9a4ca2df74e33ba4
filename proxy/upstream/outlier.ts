import type { Backend } from "./backend.js";
import type { UpstreamOutcome } from "./types.js";

/** Passive outlier detection settings of one cluster (config `outlier_detection`) */
export interface OutlierOptions {
  /** Failures in a row that eject a backend (default 5) */
  readonly consecutiveFailures?: number;
  /** First ejection's length; the n-th in a row lasts base × 2^(n−1) (default 1,000 ms) */
  readonly baseEjectionMs?: number;
  /** Upper bound of one ejection (default 30,000 ms) */
  readonly maxEjectionMs?: number;
  /** Share of the cluster that may be ejected at once, 0–100 (default 50); rounds down */
  readonly maxEjectedPercent?: number;
}

export const defaultOutlierOptions: Required<OutlierOptions> = Object.freeze({
  consecutiveFailures: 5,
  baseEjectionMs: 1_000,
  maxEjectionMs: 30_000,
  maxEjectedPercent: 50,
});

interface BackendRecord {
  consecutive: number;
  /** Ejections since the back-off last reset; sets the next ejection's length */
  streak: number;
  /** Ejections ever, for /metrics */
  total: number;
  lastEjectionEnds: number;
}

/**
 * Ejects backends that keep failing real requests, between active health checks. Only failures that say the
 * backend itself is broken count: 5xx, refused/failed connections and resets. Timeouts do not, because their
 * length is the tenant's own `max_response_time` and one tenant's tight quota must not eject a backend for all.
 *
 * Back-off grows while a backend keeps getting ejected, and forgives it only after it has served a success at
 * least `maxEjectionMs` after its last ejection ended: a backend that fails again right after coming back gets
 * twice the time, not the base again. Time is always passed in, so tests drive it with a ManualClock.
 */
export class OutlierDetector {
  readonly options: Required<OutlierOptions>;
  private readonly records = new Map<Backend, BackendRecord>();

  constructor(options: OutlierOptions = {}) {
    this.options = Object.freeze({ ...defaultOutlierOptions, ...stripUndefined(options) });
    const o = this.options;
    if (!Number.isInteger(o.consecutiveFailures) || o.consecutiveFailures < 1) throw new RangeError("consecutiveFailures must be a positive integer");
    if (!(o.baseEjectionMs > 0) || !(o.maxEjectionMs >= o.baseEjectionMs)) throw new RangeError("need 0 < baseEjectionMs ≤ maxEjectionMs");
    if (!(o.maxEjectedPercent >= 0 && o.maxEjectedPercent <= 100)) throw new RangeError("maxEjectedPercent must be within 0–100");
  }

  /**
   * Counts one finished attempt on `backend`, one of `cluster`'s current backends. Returns true when this
   * outcome ejected it (Backend.ejectedUntil set).
   */
  record(backend: Backend, outcome: UpstreamOutcome, now: number, cluster: readonly Backend[]): boolean {
    const r = this.recordOf(backend);
    if (outcome === "success") {
      r.consecutive = 0;
      if (r.streak > 0 && now >= r.lastEjectionEnds + this.options.maxEjectionMs) r.streak = 0;
      return false;
    }
    if (outcome === "timeout") return false;
    r.consecutive++;
    // Already ejected: late failures of requests sent before the ejection must not extend it
    if (r.consecutive < this.options.consecutiveFailures || backend.ejectedUntil > now) return false;
    if (!this.mayEject(cluster, now)) return false;
    const length = Math.min(this.options.maxEjectionMs, this.options.baseEjectionMs * 2 ** r.streak);
    backend.ejectedUntil = now + length;
    r.streak++;
    r.total++;
    r.consecutive = 0;
    r.lastEjectionEnds = backend.ejectedUntil;
    return true;
  }

  /** How many times `backend` was ejected since it joined */
  ejections(backend: Backend): number {
    return this.records.get(backend)?.total ?? 0;
  }

  /** Drops what is known about a backend that left the cluster */
  forget(backend: Backend): void {
    this.records.delete(backend);
  }

  /** The cap: with n backends at most ⌊n × percent / 100⌋ are out at once (so a lone backend is never ejected) */
  private mayEject(cluster: readonly Backend[], now: number): boolean {
    const allowed = Math.floor((cluster.length * this.options.maxEjectedPercent) / 100);
    let ejected = 0;
    for (const b of cluster) if (b.ejectedUntil > now) ejected++;
    return ejected < allowed;
  }

  private recordOf(backend: Backend): BackendRecord {
    let r = this.records.get(backend);
    if (r === undefined) {
      r = { consecutive: 0, streak: 0, total: 0, lastEjectionEnds: 0 };
      this.records.set(backend, r);
    }
    return r;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
