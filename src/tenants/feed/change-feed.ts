import type { Clock } from "../../auth/clock.js";
import type { Database, Tx } from "../../db/index.js";
import { TenantMeshError } from "../../errors/index.js";
import type { TenantChange, TenantConfig } from "../../gen/tenantmesh/v1/tenant.js";
import type { Logger } from "../../log/index.js";
import { changeBounds, coalesce, loadTenantConfigs, readChanges, type ChangeRow } from "./config.js";
import { Subscription } from "./subscription.js";

export interface ChangeFeedOptions {
  db: Database;
  clock: Clock;
  log: Logger;
  /** How often the change log is read while anyone watches; local writes wake the poller at once */
  pollIntervalMs?: number;
  /** Change rows read per query */
  batchSize?: number;
  /** Queued changes a subscriber may fall behind by before its stream ends with UNAVAILABLE */
  maxBacklog?: number;
}

/**
 * The process's one reader of the `tenant_changes` log, fanning each new change out to every WatchTenants
 * stream of this process. Changes come from the table, never from this process's memory, so a change made
 * through another control-plane replica on the same database arrives here too. The poller runs only while
 * someone watches.
 */
export class ChangeFeed {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #interval: number;
  readonly #batch: number;
  readonly #maxBacklog: number;
  readonly #subs = new Set<Subscription>();
  /** The highest version dispatched; -1 while the poller is not running */
  #last = -1;
  #init: Promise<void> | undefined;
  #running = false;
  #closed = false;
  #wakeUp: (() => void) | undefined;
  #woken = false;

  constructor(options: ChangeFeedOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#interval = options.pollIntervalMs ?? 50;
    this.#batch = options.batchSize ?? 500;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
  }

  /** Joins the feed: the subscription queues every change after `joinedAt`, the feed's position right now */
  async subscribe(): Promise<Subscription> {
    for (;;) {
      if (this.#closed) throw new TenantMeshError("TM_ERR_UNAVAILABLE", "the control plane is shutting down; reconnect", { retryAfterSeconds: 1 });
      if (this.#last >= 0) break;
      await this.#initialize();
    }
    // From the check above to here nothing awaits: the position and the subscriber set move together.
    const sub: Subscription = new Subscription(this.#last, this.#maxBacklog, () => this.#subs.delete(sub));
    this.#subs.add(sub);
    if (!this.#running) void this.#loop();
    return sub;
  }

  /** Streams following the feed in this process (for metrics and tests) */
  get watchers(): number {
    return this.#subs.size;
  }

  /** True while the poller runs (it stops when the last watcher leaves) */
  get polling(): boolean {
    return this.#running;
  }

  /** Polls now instead of at the next tick (called after local writes) */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /** Ends every subscription cleanly and stops polling */
  close(): void {
    this.#closed = true;
    for (const sub of [...this.#subs]) sub.close();
    this.wake();
  }

  /**
   * A snapshot of every (non-provisioning) tenant and the version it is consistent with, read in one
   * transaction. On PostgreSQL it is REPEATABLE READ, so max(version) and the rows come from one snapshot;
   * the log's advisory lock commits versions in order, so every change ≤ that version is in the rows.
   */
  async snapshot(): Promise<{ version: number; tenants: TenantConfig[] }> {
    return this.#db.asPlatform(async (trx) => {
      await trx.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      const { max } = await changeBounds(trx);
      const configs = await loadTenantConfigs(trx, "all", new Date(this.#clock.now()));
      return { version: max, tenants: [...configs.values()] };
    });
  }

  /**
   * The changes after `from` up to `to`, for a stream resuming from `from` (or catching up after its
   * snapshot); "reset" when `from` cannot be resumed from: compacted away (below the oldest row − 1) or
   * in the future (above the newest).
   */
  async changesSince(from: number, to: number): Promise<TenantChange[] | "reset"> {
    return this.#db.asPlatform(async (trx) => {
      const bounds = await changeBounds(trx);
      if (from > bounds.max || from < bounds.min - 1) return "reset";
      const changes: TenantChange[] = [];
      for (let cursor = from; cursor < to; ) {
        const rows = await readChanges(trx, cursor, to, this.#batch);
        const last = rows.at(-1);
        if (last === undefined) break;
        changes.push(...(await this.#toChanges(trx, rows)));
        cursor = last.version;
      }
      return changes;
    });
  }

  async #toChanges(trx: Tx, rows: readonly ChangeRow[]): Promise<TenantChange[]> {
    const latest = coalesce(rows);
    const configs = await loadTenantConfigs(trx, latest.map((r) => r.tenant_id), new Date(this.#clock.now()));
    const changes: TenantChange[] = [];
    for (const row of latest) {
      const config = configs.get(row.tenant_id);
      // No config: still provisioning, or rolled back and gone. Nothing a proxy should know about.
      if (config !== undefined) changes.push({ version: String(row.version), tenantId: row.tenant_id, config });
    }
    return changes;
  }

  #initialize(): Promise<void> {
    this.#init ??= this.#db
      .asPlatform((trx) => changeBounds(trx))
      .then(({ max }) => {
        if (this.#last < 0) this.#last = max;
      })
      .finally(() => {
        this.#init = undefined;
      });
    return this.#init;
  }

  async #loop(): Promise<void> {
    this.#running = true;
    let failures = 0;
    while (!this.#closed && this.#subs.size > 0) {
      let more = false;
      try {
        more = await this.#pollOnce();
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1) this.#log.warn({ err: (err as Error).message }, "tenant change feed: cannot read the change log; retrying");
      }
      if (!more) await this.#sleep(failures === 0 ? this.#interval : Math.min(5_000, this.#interval * 2 ** failures));
    }
    // Same synchronous block as the loop's last check: a subscriber arriving later re-initializes.
    this.#running = false;
    this.#last = -1;
  }

  /** Reads and dispatches one batch; true when the batch was full (read again at once) */
  async #pollOnce(): Promise<boolean> {
    this.#woken = false;
    const from = this.#last;
    const { rows, changes } = await this.#db.asPlatform(async (trx) => {
      const rows = await readChanges(trx, from, undefined, this.#batch);
      return { rows, changes: rows.length === 0 ? [] : await this.#toChanges(trx, rows) };
    });
    const last = rows.at(-1);
    if (last === undefined || this.#last !== from) return false;
    this.#last = last.version;
    for (const sub of [...this.#subs]) sub.push(changes);
    return rows.length === this.#batch;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeUp = () => {
        this.#wakeUp = undefined;
        done();
      };
    });
  }
}
