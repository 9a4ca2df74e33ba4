import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import type { PickResult } from "../balancer/index.js";
import type { TenantEntry } from "../directory/types.js";
import { Backend } from "../upstream/backend.js";
import { FifoDispatchQueue, type QueueWaiter } from "./dispatch-queue.js";

const tenant = { id: "t" } as TenantEntry;
const backend = new Backend({ id: "b", address: "x:1", capacity: 1 });
const pick: PickResult = { kind: "pick", backend };
const full: PickResult = { kind: "queue", reason: "full" };
const none: PickResult = { kind: "fail", reason: "none" };

/** A waiter whose tryAcquire answers from a mutable script, recording when it was served */
function waiter(name: string, served: string[], answer: () => PickResult = () => pick): QueueWaiter {
  return {
    tenant,
    tryAcquire: () => {
      const r = answer();
      if (r.kind === "pick") served.push(name);
      return r;
    },
  };
}

describe("FifoDispatchQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const queue = (maxLength = 10, maxWaitMs = 1_000) => new FifoDispatchQueue({ maxLength, maxWaitMs, clock: new ManualClock() });

  it("serves waiters first come, first served, one per release", async () => {
    const q = queue();
    const served: string[] = [];
    const a = q.enqueue(waiter("a", served));
    const b = q.enqueue(waiter("b", served));
    expect(q.depth).toBe(2);
    q.onRelease();
    expect(served).toEqual(["a"]);
    q.onRelease();
    expect(served).toEqual(["a", "b"]);
    expect(await a.done).toEqual({ kind: "acquired" });
    expect(await b.done).toEqual({ kind: "acquired" });
    expect(q.depth).toBe(0);
  });

  it("passes over a waiter that still does not fit, without dropping it", async () => {
    const q = queue();
    const served: string[] = [];
    let aFits = false;
    q.enqueue(waiter("a", served, () => (aFits ? pick : full)));
    q.enqueue(waiter("b", served));
    q.onRelease();
    expect(served).toEqual(["b"]);
    aFits = true;
    q.onRelease();
    expect(served).toEqual(["b", "a"]);
  });

  it("refuses at once when full, and after the max wait, with Retry-After", async () => {
    const q = queue(1, 2_500);
    const first = q.enqueue(waiter("a", []));
    const overflow = await q.enqueue(waiter("b", [])).done;
    expect(overflow.kind === "rejected" && overflow.error.code).toBe("TM_ERR_UNAVAILABLE");
    vi.advanceTimersByTime(2_500);
    const timedOut = await first.done;
    expect(timedOut.kind === "rejected" && [timedOut.error.code, timedOut.error.retryAfterSeconds]).toEqual(["TM_ERR_UNAVAILABLE", 3]);
    expect(q.depth).toBe(0);
  });

  it("fails a waiter when no backend is available, and forgets a cancelled one", async () => {
    const q = queue();
    const served: string[] = [];
    const failing = q.enqueue(waiter("a", served, () => none));
    const cancelled = q.enqueue(waiter("b", served));
    cancelled.cancel();
    cancelled.cancel();
    q.onRelease();
    expect((await failing.done).kind).toBe("rejected");
    expect(await cancelled.done).toEqual({ kind: "cancelled" });
    expect(served).toEqual([]);
    expect(q.depth).toBe(0);
  });
});
