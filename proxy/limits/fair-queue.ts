import type { Clock } from "../../src/auth/clock.js";
import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import { queueAllFull } from "../balancer/balancer.js";
import type { TenantEntry } from "../directory/types.js";
import type { DispatchQueue, QueueOutcome, QueueTicket, QueueWaiter } from "../pipeline/dispatch-queue.js";
import { FlowHeap, type HeapItem } from "./flow-heap.js";
import { RateLimitedError, policyField } from "./rate-limited.js";
import { fairWeight } from "./weights.js";

/** How a wait ended, for metrics */
export type WaitOutcome = "dispatched" | "timeout" | "shed" | "cancelled" | "failed";

/** Sees every wait end and every refusal at the door (ProxyMetrics-backed in queue-metrics.ts) */
export interface QueueObserver {
  waited(tenantId: string, ms: number, outcome: WaitOutcome): void;
  refused(tenantId: string, reason: "tenant_full" | "queue_full"): void;
}

export interface FairQueueOptions {
  readonly clock: Clock;
  /** Waiters of all tenants together (default 1,000) */
  readonly maxLength: number;
  /** Longest wait; a tenant's own is the smaller of this and its max_response_time_ms (default 1,000 ms) */
  readonly maxWaitMs: number;
  /** One tenant's waiters at most; beyond, 429 (default: maxLength) */
  readonly tenantMaxLength?: number;
  /** A tenant's weight (default fairWeight: priority × tier factor) */
  readonly weightOf?: (tenant: TenantEntry) => number;
  /** Waiters every tenant may keep even when the queue is full and shedding (default 2) */
  readonly guaranteedPerTenant?: number;
  /** Waiters past their deadline are refused this often (default 10 ms) */
  readonly expireEveryMs?: number;
  /** Tenants tried per release whose pick said `queue` for them alone (tenant-affinity subsets; default 8) */
  readonly scanLimit?: number;
  /**
   * True (default) when the balancer's `queueAllFull` means no tenant can be placed, so a release stops at the
   * first such answer. False for tenant-affinity, where it may only mean this tenant's subset (or its access
   * to reserved slots) is exhausted while another tenant could still go.
   */
  readonly allFullStopsEveryone?: boolean;
  readonly observer?: QueueObserver;
}

class Waiter {
  settle: ((outcome: QueueOutcome) => void) | undefined = undefined;
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  constructor(
    readonly waiter: QueueWaiter,
    readonly flow: Flow,
    /** Virtual start tag: when, in the queue's virtual time, this waiter's turn begins */
    readonly start: number,
    readonly seq: number,
    readonly enqueuedAt: number,
    readonly deadline: number,
  ) {}
}

/** One tenant's FIFO of waiters; in the heap while it has any */
class Flow implements HeapItem {
  heapIndex = -1;
  head: Waiter | undefined = undefined;
  tail: Waiter | undefined = undefined;
  length = 0;
  /** Virtual finish tag of the last waiter enqueued: the earliest start of the next */
  lastFinish = 0;
  constructor(
    readonly tenantId: string,
    public tenant: TenantEntry,
  ) {}
  key(): number {
    return this.head!.start;
  }
  seq(): number {
    return this.head!.seq;
  }
}

const acquired: QueueOutcome = Object.freeze({ kind: "acquired" });
const cancelled: QueueOutcome = Object.freeze({ kind: "cancelled" });

/**
 * Weighted fair queuing for a full cluster, by start-time fair queuing (Goyal et al., SFQ): each tenant has
 * its own FIFO; a waiter is tagged on arrival with start = max(virtual time, its tenant's last finish) and
 * finish = start + 1 / weight; a freed slot goes to the waiter with the smallest start tag, and virtual time
 * becomes that tag. So tenants share dispatches in proportion to their weights while they all wait, and a
 * tenant that was not waiting (the victim of a noisy neighbour) is tagged at the current virtual time, ahead
 * of a flooding tenant's backlog: it waits for one slot, not for the backlog.
 *
 * Bounds: a tenant's waiters (beyond → 429 with Retry-After), all waiters (beyond → shedding), and each
 * waiter's wait (beyond → 503 with Retry-After). When the queue is full the newest waiter of the
 * lowest-priority tenant with the most waiters is shed (503) for a newcomer of higher priority — or of equal
 * priority with fewer waiters — but no tenant is shed below `guaranteedPerTenant` waiters, and a tenant under
 * that count always gets in: every waiting tenant keeps its weighted share of the dispatches.
 */
export class FairDispatchQueue implements DispatchQueue {
  private readonly flows = new Map<string, Flow>();
  private readonly heap = new FlowHeap<Flow>();
  private readonly clock: Clock;
  private readonly weightOf: (tenant: TenantEntry) => number;
  private readonly tenantMax: number;
  private readonly guaranteed: number;
  private readonly scanLimit: number;
  private readonly allFullStops: boolean;
  private length = 0;
  private virtualTime = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FairQueueOptions) {
    this.clock = options.clock;
    this.weightOf = options.weightOf ?? fairWeight;
    this.tenantMax = Math.min(options.tenantMaxLength ?? options.maxLength, options.maxLength);
    this.guaranteed = options.guaranteedPerTenant ?? 2;
    this.scanLimit = options.scanLimit ?? 8;
    this.allFullStops = options.allFullStopsEveryone ?? true;
  }

  get depth(): number {
    return this.length;
  }

  /** Waiters per tenant now (tenants without waiters are absent) */
  *depthByTenant(): Iterable<[string, number]> {
    for (const flow of this.heap.items) yield [flow.tenantId, flow.length];
  }

  enqueue(waiter: QueueWaiter): QueueTicket {
    const tenant = waiter.tenant;
    const now = this.clock.now();
    let flow = this.flows.get(tenant.id);
    if (flow === undefined) {
      flow = new Flow(tenant.id, tenant);
      this.flows.set(tenant.id, flow);
    }
    flow.tenant = tenant;
    if (flow.length >= this.tenantMax) return this.refuse(flow, "tenant_full", tenantFull(tenant, flow.length));
    if (this.length >= this.options.maxLength && !this.shedFor(flow)) {
      return this.refuse(flow, "queue_full", unavailable("every backend is busy and the queue is full", 1_000));
    }
    const start = Math.max(this.virtualTime, flow.lastFinish);
    flow.lastFinish = start + 1 / Math.max(1e-6, this.weightOf(tenant));
    const wait = tenant.maxResponseTimeMs > 0 ? Math.min(this.options.maxWaitMs, tenant.maxResponseTimeMs) : this.options.maxWaitMs;
    const node = new Waiter(waiter, flow, start, this.seq++, now, now + wait);
    const done = new Promise<QueueOutcome>((resolve) => {
      node.settle = resolve;
    });
    node.prev = flow.tail;
    if (flow.tail === undefined) flow.head = node;
    else flow.tail.next = node;
    flow.tail = node;
    flow.length++;
    this.length++;
    if (flow.length === 1) this.heap.push(flow);
    if (this.timer === undefined) this.timer = setInterval(() => this.expire(), this.options.expireEveryMs ?? 10).unref();
    return { done, cancel: () => this.finish(node, cancelled, "cancelled") };
  }

  onRelease(): void {
    const now = this.clock.now();
    let skipped: Flow[] | undefined;
    for (let tried = 0; tried < this.scanLimit; ) {
      const flow = this.heap.peek();
      if (flow === undefined) break;
      const node = flow.head!;
      if (node.deadline <= now) {
        this.timeout(node);
        continue;
      }
      const result = node.waiter.tryAcquire(now);
      if (result.kind === "pick") {
        if (node.start > this.virtualTime) this.virtualTime = node.start;
        this.finish(node, acquired, "dispatched");
        continue;
      }
      if (result.kind === "fail") {
        this.finish(node, { kind: "rejected", error: unavailable("no healthy backend is available", 1_000) }, "failed");
        continue;
      }
      // Every backend full: nobody else can go either. Otherwise only this tenant's backends are full
      if (result === queueAllFull && this.allFullStops) break;
      this.heap.remove(flow);
      (skipped ??= []).push(flow);
      tried++;
    }
    if (skipped !== undefined) for (const flow of skipped) this.heap.push(flow);
  }

  /** Refuses every waiter past its deadline (called by the timer; tests call it after moving the clock) */
  expire(): void {
    const now = this.clock.now();
    // A snapshot: timing a waiter out reorders the heap under an index-based walk
    for (const flow of [...this.heap.items]) {
      while (flow.head !== undefined && flow.head.deadline <= now) this.timeout(flow.head);
    }
    if (this.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Makes room for a newcomer of `newcomer`'s tenant by shedding one waiter; false when nobody should yield */
  private shedFor(newcomer: Flow): boolean {
    let victim: Flow | undefined;
    for (const flow of this.heap.items) {
      if (flow === newcomer || flow.length <= this.guaranteed) continue;
      if (victim === undefined || flow.tenant.priority < victim.tenant.priority || (flow.tenant.priority === victim.tenant.priority && flow.length > victim.length)) victim = flow;
    }
    if (victim === undefined) return false;
    const yields =
      newcomer.length < this.guaranteed ||
      victim.tenant.priority < newcomer.tenant.priority ||
      (victim.tenant.priority === newcomer.tenant.priority && victim.length > newcomer.length + 1);
    if (!yields) return false;
    const error = unavailable("shed: the queue is full and tenants of higher priority or with fewer requests waiting need the room", 1_000);
    this.finish(victim.tail!, { kind: "rejected", error }, "shed");
    return true;
  }

  private timeout(node: Waiter): void {
    const waited = Math.max(0, node.deadline - node.enqueuedAt);
    this.finish(node, { kind: "rejected", error: unavailable(`no backend slot became free within ${Math.round(waited)} ms`, waited) }, "timeout");
  }

  private refuse(flow: Flow, reason: "tenant_full" | "queue_full", error: TenantMeshError): QueueTicket {
    if (flow.length === 0) this.flows.delete(flow.tenantId);
    this.options.observer?.refused(flow.tenantId, reason);
    return { done: Promise.resolve({ kind: "rejected", error }), cancel: noop };
  }

  /** Unlinks and settles a waiter once; later calls (a timeout racing a release, a late cancel) do nothing */
  private finish(node: Waiter, outcome: QueueOutcome, how: WaitOutcome): void {
    const settle = node.settle;
    if (settle === undefined) return;
    node.settle = undefined;
    const flow = node.flow;
    const wasHead = flow.head === node;
    if (node.prev === undefined) flow.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) flow.tail = node.prev;
    else node.next.prev = node.prev;
    flow.length--;
    this.length--;
    if (flow.length === 0) {
      this.heap.remove(flow);
      this.flows.delete(flow.tenantId);
    } else if (wasHead) this.heap.update(flow);
    this.options.observer?.waited(flow.tenantId, this.clock.now() - node.enqueuedAt, how);
    settle(outcome);
  }
}

const noop = (): void => undefined;

function unavailable(message: string, retryMs: number): TenantMeshError {
  return withoutStack(() => new TenantMeshError("TM_ERR_UNAVAILABLE", message, { retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) }));
}

function tenantFull(tenant: TenantEntry, waiting: number): RateLimitedError {
  return withoutStack(() => new RateLimitedError(`tenant ${tenant.slug} already has ${waiting} requests waiting for a backend`, "queue", 1_000, policyField(tenant), undefined));
}
