import { setTimeout as sleep } from "node:timers/promises";
import { TenantMeshError } from "../errors/index.js";

/** Gives a slot back; calling it more than once is harmless */
export type Release = () => void;

interface Waiter {
  grant(release: Release): void;
  fail(err: unknown): void;
}

/**
 * A backend's bounded workers: at most `limit` holders at once, everyone else waits in arrival order. A freed
 * slot goes straight to the oldest waiter, so a newcomer never overtakes the queue. This is what a benchmark
 * of balancers needs from a backend: its advertised capacity is real, and excess load turns into queueing
 * delay (visible as `queued` on /health) rather than unbounded parallelism.
 */
export class Capacity {
  #inFlight = 0;
  readonly #queue: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`capacity must be a whole number ≥ 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves with a release once a slot is free; a waiter whose signal aborts leaves the queue */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.#inFlight < this.limit) {
      this.#inFlight++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(cancelled());
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        fail: reject,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /**
   * Runs `fn` in a slot, after `serviceTimeMs` of artificial work inside that slot (so the delay occupies a
   * worker, as real work would). The slot is given back however `fn` ends.
   */
  async run<T>(fn: () => Promise<T>, options: { serviceTimeMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const release = await this.acquire(options.signal);
    try {
      if (options.serviceTimeMs) {
        const sleeping = sleep(options.serviceTimeMs, undefined, options.signal ? { signal: options.signal } : {});
        await sleeping.catch(() => Promise.reject(cancelled()));
      }
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // The slot passes to the next waiter without being counted free in between.
      if (next) next.grant(this.#releaser());
      else this.#inFlight--;
    };
  }
}

const cancelled = (): TenantMeshError => new TenantMeshError("TM_ERR_UNAVAILABLE", "the request was cancelled before it ran");
