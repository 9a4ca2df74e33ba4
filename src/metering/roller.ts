import type { Database, Tx } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { decodeEvents } from "./codec.js";
import type { UsageEvent } from "./resources.js";
import { nextPeriod, periodStart } from "./periods.js";
import { applyUsage } from "./rollup.js";

/** Acknowledged usage not rolled up yet: of one month (its first instant, epoch ms), or of all time */
export type PendingUsage = (tenantId: string, resourceType: string, monthStartMs?: number) => number;

export interface UsageRollerOptions {
  db: Database;
  logger: Logger;
  /**
   * How long the first pending batch waits for company before a roll-up starts; default 2 s. Reads in this process
   * do not wait for it (they settle first); it bounds what other processes and replicas see late.
   */
  delayMs?: number;
  /** A roll-up starts at once with this many events pending; default 200,000 */
  eagerEvents?: number;
  /** Events per roll-up transaction at most; default 400,000 */
  maxEventsPerRoll?: number;
}

/** Pending usage of one tenant's resource type: in all, and per month (its first instant, epoch ms) */
interface PendingSums {
  total: number;
  months: Map<number, number>;
}

/**
 * Rolls journaled batches into the hour, day and month rows. Many batches go into one transaction, aggregated
 * first: the more senders, the fewer row changes per event — the rollups' cost follows the number of distinct
 * tenant-hours, not the number of events. Exactly once: a roll-up only counts the batches whose `rolled_up_at`
 * it set itself (UPDATE … WHERE rolled_up_at IS NULL RETURNING), in the same transaction as the counts, so a
 * retry, a second replica, or a restart's recovery can never count one twice.
 */
export class UsageRoller {
  readonly #db: Database;
  readonly #log: Logger;
  readonly #o: Required<Omit<UsageRollerOptions, "db" | "logger">>;
  /** Journaled here and not rolled up yet: batch id → events (oldest first) */
  readonly #pending = new Map<string, UsageEvent[]>();
  #pendingEvents = 0;
  /**
   * Sums of the pending events per tenant, then resource type. Nested maps keyed by the strings the events
   * already hold: composite string keys cost two concatenations and hashes per event, twice (add, roll-up).
   */
  readonly #pendingSums = new Map<string, Map<string, PendingSums>>();
  #timer: NodeJS.Timeout | undefined;
  #rolling: Promise<void> | undefined;
  #failures = 0;

  constructor(options: UsageRollerOptions) {
    this.#db = options.db;
    this.#log = options.logger;
    this.#o = { delayMs: 2_000, eagerEvents: 200_000, maxEventsPerRoll: 400_000, ...options };
  }

  get pendingEvents(): number {
    return this.#pendingEvents;
  }

  /** A batch committed to the journal: it will be rolled up soon */
  add(batchId: string, events: UsageEvent[]): void {
    if (this.#pending.has(batchId)) return;
    this.#pending.set(batchId, events);
    this.#pendingEvents += events.length;
    this.#count(events, 1);
    this.#schedule();
  }

  /**
   * What quota checks add to the rollups: they need not wait for a roll-up (which would defeat its batching) to
   * count what was acknowledged.
   */
  readonly pendingUsage: PendingUsage = (tenantId, resourceType, monthStartMs) => {
    const sums = this.#pendingSums.get(tenantId)?.get(resourceType);
    if (sums === undefined) return 0;
    return monthStartMs === undefined ? sums.total : (sums.months.get(monthStartMs) ?? 0);
  };

  #count(events: readonly UsageEvent[], sign: 1 | -1): void {
    // Events come in time order, mostly of one month: its bounds are computed when an event leaves them.
    let monthStart = 0;
    let monthEnd = -1;
    for (const e of events) {
      if (e.amount === 0) continue;
      const ms = e.occurredAt.getTime();
      if (ms < monthStart || ms >= monthEnd) {
        monthStart = periodStart("month", ms);
        monthEnd = nextPeriod("month", monthStart);
      }
      let byType = this.#pendingSums.get(e.tenantId);
      if (byType === undefined) this.#pendingSums.set(e.tenantId, (byType = new Map()));
      let sums = byType.get(e.resourceType);
      if (sums === undefined) byType.set(e.resourceType, (sums = { total: 0, months: new Map() }));
      const delta = sign * e.amount;
      const month = (sums.months.get(monthStart) ?? 0) + delta;
      if (month === 0) sums.months.delete(monthStart);
      else sums.months.set(monthStart, month);
      // Amounts are whole numbers ≥ 0 (exact in a double): a total of 0 means nothing of this type is pending.
      sums.total += delta;
      if (sums.total === 0) {
        byType.delete(e.resourceType);
        if (byType.size === 0) this.#pendingSums.delete(e.tenantId);
      }
    }
  }

  /** Resolves once every batch pending now is in the rollups (reads that must see what was acknowledged) */
  async settle(): Promise<void> {
    const ids = [...this.#pending.keys()];
    while (ids.some((id) => this.#pending.has(id))) await this.roll();
  }

  /** One roll-up transaction over the oldest pending batches (one at a time) */
  roll(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#rolling ??= this.#rollOnce().finally(() => {
      this.#rolling = undefined;
      if (this.#pending.size > 0) this.#schedule();
    });
    return this.#rolling;
  }

  /** Adopts journaled batches nobody rolled up (a crash between journal and rollup, here or on a replica) */
  async recover(olderThanMs: number): Promise<number> {
    // Ids first: the batches this process journaled itself are pending here already, and reading and decoding
    // their payloads again would cost the roll-up that is about to count them.
    const orphans = await this.#db.asPlatform(async (trx) => {
      const ids = (await trx("usage_batches")
        .select("batch_id")
        .whereNull("rolled_up_at")
        .where("applied_at", "<", new Date(Date.now() - olderThanMs))
        .orderBy("applied_at")
        .limit(2_000)) as Array<{ batch_id: string }>;
      const unknown = ids.map((r) => r.batch_id).filter((id) => !this.#pending.has(id));
      if (unknown.length === 0) return [];
      return (await trx("usage_batches").select("batch_id", "payload").whereIn("batch_id", unknown).whereNull("rolled_up_at").orderBy("applied_at")) as Array<{
        batch_id: string;
        payload: Uint8Array | null;
      }>;
    });
    for (const r of orphans) this.add(r.batch_id, r.payload === null ? [] : decodeEvents(Buffer.from(r.payload)));
    if (orphans.length > 0) this.#log.info({ batches: orphans.length }, "recovered journaled usage batches that were not rolled up");
    return orphans.length;
  }

  /** Rolls up what is pending, then stops the timer */
  async close(): Promise<void> {
    try {
      await this.settle();
    } finally {
      clearTimeout(this.#timer);
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#rolling !== undefined) return;
    const backoff = this.#failures === 0 ? 0 : Math.min(5_000, 100 * 2 ** this.#failures);
    const delay = this.#pendingEvents >= this.#o.eagerEvents ? backoff : Math.max(backoff, this.#o.delayMs);
    this.#timer = setTimeout(() => void this.roll().catch(() => undefined), delay);
    this.#timer.unref();
  }

  async #rollOnce(): Promise<void> {
    const taken: Array<[string, UsageEvent[]]> = [];
    let events = 0;
    for (const entry of this.#pending) {
      if (taken.length > 0 && events + entry[1].length > this.#o.maxEventsPerRoll) break;
      taken.push(entry);
      events += entry[1].length;
    }
    if (taken.length === 0) return;
    try {
      await this.#db.asPlatform((trx) => this.#apply(trx, taken));
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      this.#log.warn({ err: (err as Error).message, batches: taken.length }, "usage roll-up failed; the batches stay journaled and are retried");
      throw err;
    }
    for (const [id, e] of taken) {
      this.#pending.delete(id);
      this.#pendingEvents -= e.length;
      this.#count(e, -1);
    }
  }

  async #apply(trx: Tx, taken: ReadonlyArray<[string, UsageEvent[]]>): Promise<void> {
    const { rows } = (await trx.raw(
      "UPDATE usage_batches SET rolled_up_at = NOW() WHERE batch_id = ANY(?::text[]) AND rolled_up_at IS NULL RETURNING batch_id",
      [taken.map(([id]) => id)],
    )) as { rows: Array<{ batch_id: string }> };
    const mine = new Set(rows.map((r) => r.batch_id));
    const events = taken.filter(([id]) => mine.has(id)).flatMap(([, e]) => e);
    // A tenant deleted since its usage was journaled: its rollups went with it (cascade); drop its events.
    const tenants = [...new Set(events.map((e) => e.tenantId))];
    const found = (await trx.raw("SELECT id FROM tenants WHERE id = ANY(?::uuid[])", [tenants])) as { rows: Array<{ id: string }> };
    const live = new Set(found.rows.map((r) => r.id));
    const kept = live.size === tenants.length ? events : events.filter((e) => live.has(e.tenantId));
    if (kept.length < events.length) this.#log.warn({ dropped_events: events.length - kept.length }, "usage of deleted tenants dropped at roll-up");
    await applyUsage(trx, kept);
  }
}
