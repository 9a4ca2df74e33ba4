import type { Database, Tx } from "../db/index.js";
import { invalidArgument, TenantMeshError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { UsageRoller } from "./roller.js";
import type { ValidBatch } from "./validate.js";

/** How one batch was taken */
export interface IngestResult {
  /** True when the batch id had been applied before: nothing was counted this time */
  duplicate: boolean;
  acceptedEvents: number;
}

interface Pending {
  batch: ValidBatch;
  resolve(result: IngestResult): void;
  reject(err: unknown): void;
}

export interface UsageIngestorOptions {
  db: Database;
  logger: Logger;
  /** Events journaled per transaction at most (default 50,000) */
  maxEventsPerFlush?: number;
  /** Acknowledged events not yet rolled up beyond which acknowledgements wait for the rollups; default 500,000 */
  maxPendingEvents?: number;
  /** How long a journaled batch may wait for company before it is rolled up; default 2 s */
  rollupDelayMs?: number;
}

/**
 * Takes validated batches into the journal with group commit: batches that arrive while a transaction is
 * running wait, and the next transaction takes all of them. A batch is all-or-nothing and at-most-once (its id
 * row, with its events, is inserted in one statement), and its caller is answered only after that commit; the
 * UsageRoller then adds it to the rollups (exactly once, see roller.ts). Splitting the two is what lets the
 * embedded database ingest tens of thousands of events a second: acknowledging costs one journal row per batch,
 * and the rollups aggregate over as many batches as arrived meanwhile, one row change per tenant-hour.
 */
export class UsageIngestor {
  readonly #db: Database;
  readonly #log: Logger;
  readonly #maxEvents: number;
  readonly #maxPending: number;
  readonly roller: UsageRoller;
  /** Tenant ids found in `tenants` → when (epoch ms): a group looks up only the ids not confirmed lately */
  readonly #knownTenants = new Map<string, number>();
  #queue: Pending[] = [];
  #running = false;
  #recovered: Promise<unknown> | undefined;

  constructor(options: UsageIngestorOptions) {
    this.#db = options.db;
    this.#log = options.logger;
    this.#maxEvents = options.maxEventsPerFlush ?? 50_000;
    this.#maxPending = options.maxPendingEvents ?? 500_000;
    this.roller = new UsageRoller({ db: options.db, logger: options.logger, ...(options.rollupDelayMs === undefined ? {} : { delayMs: options.rollupDelayMs }) });
  }

  /**
   * Resolves once every batch acknowledged so far is in the rollups: for reads that must see it (usage, costs,
   * invoices). The first call also adopts batches an earlier run journaled but did not roll up.
   */
  async settle(): Promise<void> {
    this.#recovered ??= this.recoverOrphans().catch((err: unknown) => {
      this.#recovered = undefined;
      throw err;
    });
    await this.#recovered;
    await this.roller.settle();
  }

  /**
   * Adopts batches journaled but never rolled up by a process that died. The embedded database belongs to one
   * process, so everything pending there that is not ours is orphaned; on PostgreSQL another live replica may be
   * about to roll up its own, so only batches older than several roll-up delays are taken (taking one anyway
   * would not count it twice — the roll-up's UPDATE decides — but would count it as pending twice meanwhile).
   */
  recoverOrphans(): Promise<number> {
    return this.roller.recover(this.#db.kind === "pglite" ? 0 : 10_000);
  }

  /** Rolls up what was acknowledged (the control plane's shutdown) */
  close(): Promise<void> {
    return this.roller.close();
  }

  /** Resolves once the batch is committed (or known as a replay); rejects with the reason it was refused */
  record(batch: ValidBatch): Promise<IngestResult> {
    return new Promise<IngestResult>((resolve, reject) => {
      this.#queue.push({ batch, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        // Let the I/O phase run first: on the embedded database a flush blocks the event loop, so requests that
        // arrived meanwhile are still undecoded; one turn of the loop lets them join this group.
        await new Promise<void>((resolve) => setImmediate(resolve));
        let events = 0;
        let take = 0;
        while (take < this.#queue.length && (take === 0 || events + (this.#queue[take]?.batch.events.length ?? 0) <= this.#maxEvents)) {
          events += this.#queue[take]?.batch.events.length ?? 0;
          take++;
        }
        // Back-pressure: acknowledging faster than the rollups keep up would only grow memory. A failing roll-up
        // is not waited out here: the journal transaction then meets the same fault and answers the callers.
        while (this.roller.pendingEvents > this.#maxPending && (await this.roller.roll().then(() => true, () => false)));
        await this.#flush(this.#queue.splice(0, take));
      }
    } finally {
      this.#running = false;
    }
  }

  async #flush(group: Pending[]): Promise<void> {
    const outcomes = new Map<Pending, IngestResult | Error>();
    let journaled: ValidBatch[];
    try {
      journaled = await this.#db.asPlatform((trx) => this.#apply(trx, group, outcomes));
    } catch (err) {
      // Nothing of the group was applied: every caller gets the failure and may send its batch again.
      this.#log.warn({ err: (err as Error).message, batches: group.length }, "usage batch transaction failed");
      for (const p of group) p.reject(err);
      return;
    }
    for (const b of journaled) this.roller.add(b.batchId, b.events);
    for (const p of group) {
      const outcome = outcomes.get(p);
      if (outcome instanceof Error) p.reject(outcome);
      else if (outcome) p.resolve(outcome);
      else p.reject(new Error("usage batch left without an outcome"));
    }
  }

  /** Journals the group's new batches; returns them (for the roller, once committed) */
  async #apply(trx: Tx, group: Pending[], outcomes: Map<Pending, IngestResult | Error>): Promise<ValidBatch[]> {
    outcomes.clear();
    const unknown = await this.#unknownTenants(trx, group);
    // The first batch of an id in this group leads; a second one with the same id (a replay racing the
    // original) follows it and is judged against the leader's digest.
    const leaders = new Map<string, Pending>();
    const followers: Pending[] = [];
    for (const p of group) {
      const bad = p.batch.events.findIndex((e) => unknown.has(e.tenantId));
      if (bad >= 0) {
        outcomes.set(p, invalidArgument([{ field: `events[${bad}].tenant_id`, description: "names no tenant" }]));
      } else if (leaders.has(p.batch.batchId)) followers.push(p);
      else leaders.set(p.batch.batchId, p);
    }
    const ids = [...leaders.keys()].sort();
    const inserted = new Set<string>();
    if (ids.length > 0) {
      const leads = ids.map((id) => leaders.get(id) as Pending);
      // Payloads travel as base64 text: a bytea[] parameter is not serialized alike by pg and PGlite.
      const { rows } = (await trx.raw(
        `INSERT INTO usage_batches (batch_id, digest, source, event_count, payload)
         SELECT b, d, s, n, decode(p, 'base64') FROM unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[]) AS u(b, d, s, n, p)
         ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id`,
        [ids, leads.map((p) => p.batch.digest), leads.map((p) => p.batch.source), leads.map((p) => p.batch.events.length), leads.map((p) => p.batch.payload.toString("base64"))],
      )) as { rows: Array<{ batch_id: string }> };
      for (const r of rows) inserted.add(r.batch_id);
    }
    const earlier = new Map<string, string>();
    const seen = ids.filter((id) => !inserted.has(id));
    if (seen.length > 0) {
      const rows = (await trx("usage_batches").select("batch_id", "digest").whereIn("batch_id", seen)) as Array<{ batch_id: string; digest: string }>;
      for (const r of rows) earlier.set(r.batch_id, r.digest);
    }
    const judge = (p: Pending, digest: string | undefined, fresh: boolean): IngestResult | Error => {
      if (digest !== p.batch.digest) {
        return new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `batch_id ${p.batch.batchId} was already used for other events; give every batch its own id`);
      }
      return { duplicate: !fresh, acceptedEvents: fresh ? p.batch.events.length : 0 };
    };
    const journaled: ValidBatch[] = [];
    for (const [id, p] of leaders) {
      const fresh = inserted.has(id);
      outcomes.set(p, judge(p, fresh ? p.batch.digest : earlier.get(id), fresh));
      if (fresh) journaled.push(p.batch);
    }
    for (const p of followers) outcomes.set(p, judge(p, leaders.get(p.batch.batchId)?.batch.digest ?? earlier.get(p.batch.batchId), false));
    return journaled;
  }

  /**
   * Tenant ids named in the group that have no tenant row. Every group names nearly every active tenant, so ids
   * found within the last KNOWN_TENANT_TTL_MS are not looked up again (the lookup cost as much as the journal
   * insert). Only hits are remembered: an unknown id is looked up every time. A tenant hard-deleted meanwhile
   * (provisioning's rollback) may thus still have a batch acknowledged for a while; the roll-up drops the events
   * of tenants that are gone, as it already must for a delete between journal and roll-up.
   */
  async #unknownTenants(trx: Tx, group: readonly Pending[]): Promise<Set<string>> {
    const now = Date.now();
    const ids = new Set<string>();
    for (const p of group) {
      for (const e of p.batch.events) {
        const seen = this.#knownTenants.get(e.tenantId);
        if (seen === undefined || now - seen > KNOWN_TENANT_TTL_MS) ids.add(e.tenantId);
      }
    }
    if (ids.size === 0) return ids;
    const found = (await trx.raw("SELECT id FROM tenants WHERE id = ANY(?::uuid[])", [[...ids]])) as { rows: Array<{ id: string }> };
    if (this.#knownTenants.size + found.rows.length > MAX_KNOWN_TENANTS) this.#knownTenants.clear();
    for (const r of found.rows) {
      ids.delete(r.id);
      this.#knownTenants.set(r.id, now);
    }
    return ids;
  }
}

/** How long a tenant found in `tenants` is taken as existing without looking again */
const KNOWN_TENANT_TTL_MS = 60_000;
/** Remembered tenant ids at most (cleared when full: a miss only costs a lookup) */
const MAX_KNOWN_TENANTS = 100_000;
