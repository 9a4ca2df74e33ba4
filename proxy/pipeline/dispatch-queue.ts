import type { Clock } from "../../src/auth/clock.js";
import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import type { PickResult } from "../balancer/index.js";
import type { TenantEntry } from "../directory/types.js";

/** A request waiting for a backend slot of a full cluster */
export interface QueueWaiter {
  readonly tenant: TenantEntry;
  /**
   * Tries to take a slot now. On `pick` the slot is already acquired for this waiter — pick and acquire happen
   * in one synchronous turn, so no other request can take the slot in between. `queue`: still full; `fail`: no
   * backend is available at all, so waiting longer would not help.
   */
  tryAcquire(now: number): PickResult;
}

export type QueueOutcome =
  | { readonly kind: "acquired" }
  | { readonly kind: "rejected"; readonly error: TenantMeshError }
  | { readonly kind: "cancelled" };

/** A waiter's place in the queue */
export interface QueueTicket {
  /** Settles once: acquired (the slot is held), rejected (queue full, waited too long, no backend) or cancelled */
  readonly done: Promise<QueueOutcome>;
  /** Leaves the queue (the client went away); a no-op once settled */
  cancel(): void;
}

/**
 * Who goes next to a full cluster. The pick stage keeps one per cluster, enqueues a request whose pick said
 * `queue`, and calls `onRelease` every time one of the cluster's slots is given back, so a waiter is served in
 * the same turn the slot frees. This issue ships a bounded FIFO; the performance-isolation issue swaps in
 * weighted fair queuing over per-tenant queues behind the same interface (via `PickStageOptions.createQueue`).
 */
export interface DispatchQueue {
  enqueue(waiter: QueueWaiter): QueueTicket;
  /** A slot was released (or may have appeared): serve waiters, in the queue's order, while they get slots */
  onRelease(): void;
  /** Requests waiting now */
  readonly depth: number;
}

export interface FifoQueueOptions {
  /** Waiters held at most; beyond, a request is refused at once (default 1,000) */
  readonly maxLength: number;
  /** Longest wait for a slot before TM_ERR_UNAVAILABLE with Retry-After (default 1,000 ms) */
  readonly maxWaitMs: number;
  readonly clock: Clock;
  /** Waiters tried per release before giving up on this release (default 32): bounds one release's cost */
  readonly scanLimit?: number;
}

interface Node {
  readonly waiter: QueueWaiter;
  settle: (outcome: QueueOutcome) => void;
  timer: NodeJS.Timeout | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

const cancelled: QueueOutcome = Object.freeze({ kind: "cancelled" });
const acquired: QueueOutcome = Object.freeze({ kind: "acquired" });

/**
 * First come, first served, bounded in length and wait. On a release the waiters are tried from the head; one
 * whose pick still says `queue` (e.g. its tenant-affinity subset is full) is passed over, not dropped, so it
 * does not block the ones behind it. A doubly linked list makes timeouts and cancellations O(1).
 */
export class FifoDispatchQueue implements DispatchQueue {
  private head: Node | undefined;
  private tail: Node | undefined;
  private length = 0;
  private readonly scanLimit: number;

  constructor(private readonly options: FifoQueueOptions) {
    this.scanLimit = options.scanLimit ?? 32;
  }

  get depth(): number {
    return this.length;
  }

  enqueue(waiter: QueueWaiter): QueueTicket {
    if (this.length >= this.options.maxLength) {
      const error = withoutStack(() => new TenantMeshError("TM_ERR_UNAVAILABLE", "every backend is busy and the queue is full", { retryAfterSeconds: 1 }));
      return { done: Promise.resolve({ kind: "rejected", error }), cancel: () => undefined };
    }
    const node: Node = { waiter, settle: () => undefined, timer: undefined, prev: this.tail, next: undefined };
    const done = new Promise<QueueOutcome>((resolve) => {
      node.settle = resolve;
    });
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.length++;
    const waitMs = this.options.maxWaitMs;
    node.timer = setTimeout(() => {
      node.timer = undefined;
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      const error = withoutStack(() => new TenantMeshError("TM_ERR_UNAVAILABLE", `no backend slot became free within ${waitMs} ms`, { retryAfterSeconds }));
      this.finish(node, { kind: "rejected", error });
    }, waitMs);
    return { done, cancel: () => this.finish(node, cancelled) };
  }

  onRelease(): void {
    let node = this.head;
    const now = this.options.clock.now();
    for (let tried = 0; node !== undefined && tried < this.scanLimit; tried++) {
      const following = node.next;
      const result = node.waiter.tryAcquire(now);
      if (result.kind === "pick") {
        this.finish(node, acquired);
        return;
      }
      if (result.kind === "fail") {
        const error = withoutStack(() => new TenantMeshError("TM_ERR_UNAVAILABLE", "no healthy backend is available", { retryAfterSeconds: 1 }));
        this.finish(node, { kind: "rejected", error });
      }
      node = following;
    }
  }

  /** Unlinks and settles a node once; later calls (a timer racing a release, a late cancel) do nothing */
  private finish(node: Node, outcome: QueueOutcome): void {
    const settle = node.settle;
    if (settle === noop) return;
    node.settle = noop;
    if (node.timer !== undefined) clearTimeout(node.timer);
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    this.length--;
    settle(outcome);
  }
}

const noop = (): void => undefined;
