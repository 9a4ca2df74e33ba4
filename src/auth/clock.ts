/**
 * The source of time for everything that expires, rotates or cools down. Code takes a Clock instead of
 * calling Date.now() so tests can move time by hand instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch */
  now(): number;
}

/** Wall-clock time */
export const systemClock: Clock = Object.freeze({ now: (): number => Date.now() });

/** A clock that only moves when told to; for tests and simulations */
export class ManualClock implements Clock {
  private current: number;

  constructor(startMs = 0) {
    this.current = checkTime(startMs, "startMs");
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward by `ms` (≥ 0); use set() to go backwards on purpose */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(ms) needs a finite ms ≥ 0, got ${ms}`);
    this.current += ms;
  }

  /** Jumps to `ms` since the epoch, forwards or backwards */
  set(ms: number): void {
    this.current = checkTime(ms, "ms");
  }
}

function checkTime(ms: number, name: string): number {
  if (!Number.isFinite(ms)) throw new RangeError(`${name} must be a finite number, got ${ms}`);
  return ms;
}
