import { TenantMeshError } from "../../errors/index.js";
import type { TenantChange } from "../../gen/tenantmesh/v1/tenant.js";

/**
 * One WatchTenants stream's place in the change feed: a queue of the changes dispatched since it joined,
 * bounded so a client that stops reading cannot make the server hold every change forever. Past the bound
 * the subscription fails with UNAVAILABLE, and the client resumes from the last version it applied.
 */
export class Subscription {
  /** The feed's position when this joined: everything after it is queued here; up to it is the caller's to read */
  readonly joinedAt: number;
  readonly #maxBacklog: number;
  readonly #onClose: () => void;
  #queue: TenantChange[] = [];
  /** Changes at or below this version are already covered (by a snapshot or a catch-up) and are dropped */
  #cursor = -1;
  #state: "open" | "closed" | TenantMeshError = "open";
  #wake: (() => void) | undefined;
  readonly #failureListeners = new Set<(err: TenantMeshError) => void>();

  constructor(joinedAt: number, maxBacklog: number, onClose: () => void) {
    this.joinedAt = joinedAt;
    this.#maxBacklog = maxBacklog;
    this.#onClose = onClose;
  }

  /**
   * Calls `listener` if the subscription fails (backlog overflow), so a write blocked on a client that stopped
   * reading can give up; returns the unsubscribe function. (A listener per write, removed after it, rather than
   * racing a never-settling promise, which would keep one reaction per message ever sent.)
   */
  onFailure(listener: (err: TenantMeshError) => void): () => void {
    if (this.#state instanceof TenantMeshError) {
      listener(this.#state);
      return () => {};
    }
    this.#failureListeners.add(listener);
    return () => void this.#failureListeners.delete(listener);
  }

  /** Called by the feed, in version order */
  push(changes: readonly TenantChange[]): void {
    if (this.#state !== "open") return;
    for (const change of changes) if (Number(change.version) > this.#cursor) this.#queue.push(change);
    if (this.#queue.length > this.#maxBacklog) {
      this.#end(
        new TenantMeshError("TM_ERR_UNAVAILABLE", `watch stream fell more than ${this.#maxBacklog} changes behind; resume from the last version applied`, {
          retryAfterSeconds: 1,
        }),
      );
      return;
    }
    this.#wake?.();
  }

  /** Drops queued and future changes up to `version` */
  skipThrough(version: number): void {
    this.#cursor = Math.max(this.#cursor, version);
    this.#queue = this.#queue.filter((c) => Number(c.version) > this.#cursor);
  }

  /**
   * The next change; undefined once the subscription is closed (feed shutdown) or `signal` aborts; throws
   * the failure when it has failed.
   */
  async next(signal: AbortSignal): Promise<TenantChange | undefined> {
    for (;;) {
      if (this.#state instanceof TenantMeshError) throw this.#state;
      if (this.#state === "closed" || signal.aborted) return undefined;
      const change = this.#queue.shift();
      if (change !== undefined) {
        this.#cursor = Math.max(this.#cursor, Number(change.version));
        return change;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener("abort", done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** Ends the subscription cleanly: next() answers undefined */
  close(): void {
    this.#end("closed");
  }

  #end(state: "closed" | TenantMeshError): void {
    if (this.#state !== "open") return;
    this.#state = state;
    this.#queue = [];
    if (state instanceof TenantMeshError) for (const listener of [...this.#failureListeners]) listener(state);
    this.#failureListeners.clear();
    this.#onClose();
    this.#wake?.();
  }
}
