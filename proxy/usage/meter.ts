/**
 * The proxy's usage meter. The record stage's hook counts every finished request (quick: a map update); every
 * `flushIntervalMs` the counts become RecordUsage batches, are written to the spool (fsynced), and the spool is
 * sent oldest first. What kill -9 can lose: only requests counted since the last flush (at most
 * flushIntervalMs of traffic); every spooled batch is replayed on restart, and its id makes the replay safe.
 *
 * What is counted, per verified tenant:
 * - `api_calls`: 1 per request the proxy admitted and forwarded, whatever the backend answered (2xx-5xx, reset,
 *   timeout). Not: one that never reached a backend (a connect failure the forwarder may retry elsewhere).
 * - `compute`: the backend time of such a request, from the moment a backend slot was taken to the end of the
 *   response, rounded up to a whole millisecond.
 * - `throttled_calls` (its own 429s) and `rejected_calls` (its own 401/403s): counted apart, never billed.
 */
import { randomBytes } from "node:crypto";
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../../src/auth/clock.js";
import type { Logger } from "../../src/log/index.js";
import type { RequestHook } from "../pipeline/record.js";
import { UsageCounter, type CountedEvent, type ProxyResource } from "./counter.js";
import { UsageMetrics } from "./metrics.js";
import { QuotaView } from "./quota-view.js";
import type { UsageSink } from "./sink.js";
import { UsageSpool, type SpooledBatch } from "./spool.js";

export interface UsageMeterOptions {
  sink: UsageSink;
  /** The spool file (in the proxy's data dir) */
  spoolFile: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  /** This proxy's name: the batches' source and the prefix of their ids */
  source: string;
  /** Default 2 s */
  flushIntervalMs?: number;
  /** Default 16 MiB: at about 100 bytes an event, some 160,000 tenant-hours of counts */
  spoolMaxBytes?: number;
  /** Events per RecordUsage batch (the control plane takes 500 at most) */
  maxBatchEvents?: number;
  /** How long close() tries to deliver the last counts before leaving them in the spool; default 3 s */
  closeTimeoutMs?: number;
}

export class UsageMeter {
  readonly hook: RequestHook;
  readonly quotas: QuotaView;
  readonly metrics: UsageMetrics;
  readonly #counter = new UsageCounter();
  readonly #spool: UsageSpool;
  readonly #o: Required<Omit<UsageMeterOptions, "registry">>;
  readonly #boot = randomBytes(6).toString("hex");
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #lastFailureLog = 0;

  constructor(options: UsageMeterOptions) {
    this.#o = { flushIntervalMs: 2_000, spoolMaxBytes: 16 * 1024 * 1024, maxBatchEvents: 500, closeTimeoutMs: 3_000, ...options };
    this.metrics = new UsageMetrics(options.registry);
    this.#spool = new UsageSpool({ file: options.spoolFile, maxBytes: this.#o.spoolMaxBytes, onDrop: (dropped) => this.#dropped(dropped, "the spool is full") });
    this.quotas = new QuotaView(this.#counter, () => this.#o.clock.now(), (tenantId, resource) => void this.#askQuota(tenantId, resource));
    this.hook = (ctx, error) => {
      const tenantId = ctx.tenant?.id;
      if (tenantId === undefined) return;
      const at = this.#o.clock.now();
      if (ctx.backend !== undefined && ctx.route !== undefined && !(error !== undefined && ctx.retryable)) {
        const from = ctx.timings.picked > 0 ? ctx.timings.picked : ctx.timings.start;
        this.#count(tenantId, "api_calls", 1, at);
        this.#count(tenantId, "compute", Math.max(1, Math.ceil(ctx.timings.end - from)), at);
      } else if (error !== undefined) {
        if (error.httpStatus === 429) this.#count(tenantId, "throttled_calls", 1, at);
        else if (error.httpStatus === 401 || error.httpStatus === 403) this.#count(tenantId, "rejected_calls", 1, at);
      }
    };
    this.#gauges();
  }

  /** Starts the periodic flush; spooled batches of an earlier run go out with the first one */
  start(): this {
    this.#timer = setInterval(() => void this.flush(), this.#o.flushIntervalMs);
    this.#timer.unref();
    void this.flush();
    return this;
  }

  /** Turns the counts into spooled batches and sends the spool, oldest first (one flush at a time) */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Spools the last counts and tries to deliver them within closeTimeoutMs; the rest waits in the spool */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#flushing;
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, this.#o.closeTimeoutMs).unref())]);
    this.#o.sink.close();
  }

  /** Batches waiting in the spool */
  get spooled(): readonly SpooledBatch[] {
    return this.#spool.batches;
  }

  #count(tenantId: string, resource: ProxyResource, amount: number, at: number): void {
    this.#counter.add(tenantId, resource, amount, at);
    this.metrics.countedBy[resource].value += amount;
  }

  async #flushOnce(): Promise<void> {
    const cells = this.#counter.drain();
    for (let i = 0; i < cells.length; i += this.#o.maxBatchEvents) {
      this.#spool.append({ id: `${this.#o.source}-${this.#boot}-${++this.#seq}`, events: cells.slice(i, i + this.#o.maxBatchEvents) });
    }
    const done = new Set<string>();
    try {
      for (const batch of [...this.#spool.batches]) {
        const outcome = await this.#send(batch);
        if (outcome === "retry") break;
        done.add(batch.id);
      }
    } finally {
      this.#spool.remove(done);
      this.#gauges();
    }
  }

  /** Sends one batch: "done" when applied, a replay, or refused for good; "retry" when the control plane is out of reach */
  async #send(batch: SpooledBatch): Promise<"done" | "retry"> {
    try {
      const res = await this.#o.sink.recordUsage({
        batchId: batch.id,
        source: this.#o.source,
        returnQuotas: true,
        events: batch.events.map((e) => ({ tenantId: e.tenantId, resourceType: e.resourceType, amount: String(e.amount), occurredAt: new Date(e.occurredAtMs) })),
      });
      for (const e of batch.events) this.quotas.acknowledge(e.tenantId, e.resourceType, e.amount);
      for (const q of res.quotas) this.quotas.update(q);
      this.metrics.batches.labels(res.duplicate ? "duplicate" : "applied").inc();
      this.metrics.lastFlush.set(this.#o.clock.now() / 1000);
      return "done";
    } catch (err) {
      this.metrics.batches.labels("failed").inc();
      const e = err as ServiceError;
      if (e.code === grpcStatus.INVALID_ARGUMENT || e.code === grpcStatus.FAILED_PRECONDITION) return this.#refused(batch, e);
      const now = this.#o.clock.now();
      if (now - this.#lastFailureLog > 60_000) {
        this.#lastFailureLog = now;
        this.#o.logger.warn({ err: e.details ?? e.message, spooled_batches: this.#spool.batches.length }, "cannot deliver usage to the control plane; kept in the spool, retrying");
      }
      return "retry";
    }
  }

  /**
   * A batch the control plane will never take. Events naming tenants it does not know (deleted since) are
   * dropped and the rest is spooled again under a derived id; any other refusal drops the batch.
   */
  #refused(batch: SpooledBatch, err: ServiceError): "done" {
    const unknown = new Set([...String(err.details).matchAll(/events\[(\d+)\]\.tenant_id/g)].map((m) => Number(m[1])));
    const kept = batch.events.filter((_, i) => !unknown.has(i));
    if (unknown.size > 0 && kept.length > 0) {
      this.#spool.append({ id: `${batch.id}.r`, events: kept });
      this.#dropped([{ id: batch.id, events: batch.events.filter((_, i) => unknown.has(i)) }], "the tenants are unknown to the control plane");
    } else {
      this.#dropped([batch], `the control plane refused the batch: ${err.details}`);
    }
    return "done";
  }

  /** Says what was lost, counts it, and raises the overflow alert (a log line at error and a metric) */
  #dropped(batches: readonly SpooledBatch[], why: string): void {
    const amounts: Record<string, number> = {};
    const tenants = new Set<string>();
    let first = Infinity;
    let last = -Infinity;
    for (const e of batches.flatMap((b): CountedEvent[] => b.events)) {
      amounts[e.resourceType] = (amounts[e.resourceType] ?? 0) + e.amount;
      tenants.add(e.tenantId);
      this.quotas.acknowledge(e.tenantId, e.resourceType, e.amount);
      first = Math.min(first, e.occurredAtMs);
      last = Math.max(last, e.occurredAtMs);
    }
    for (const [resource, amount] of Object.entries(amounts)) this.metrics.dropped.labels(resource).inc(amount);
    this.metrics.droppedBatches.inc(batches.length);
    if (why === "the spool is full") this.metrics.overflow.set(1);
    this.#o.logger.error(
      {
        alert: "usage_dropped",
        batches: batches.map((b) => b.id),
        tenants: tenants.size,
        amounts,
        from: Number.isFinite(first) ? new Date(first).toISOString() : undefined,
        to: Number.isFinite(last) ? new Date(last).toISOString() : undefined,
      },
      `usage dropped because ${why}: it will not be billed`,
    );
  }

  async #askQuota(tenantId: string, resource: ProxyResource): Promise<void> {
    try {
      this.quotas.update(await this.#o.sink.checkQuota(tenantId, resource));
    } catch {
      // The next acknowledged batch carries the figure anyway; admitting meanwhile is the documented bound.
    }
  }

  #gauges(): void {
    this.metrics.spoolBatches.set(this.#spool.batches.length);
    this.metrics.spoolBytes.set(this.#spool.bytes);
    if (this.#spool.bytes < this.#o.spoolMaxBytes / 2) this.metrics.overflow.set(0);
  }
}
