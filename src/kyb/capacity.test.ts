import { describe, expect, it } from "vitest";
import { Capacity } from "./capacity.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("Capacity", () => {
  it("admits up to the limit, then queues", async () => {
    const c = new Capacity(2);
    await c.acquire();
    await c.acquire();
    let third = false;
    void c.acquire().then(() => (third = true));
    await tick();
    expect([c.inFlight, c.queued, third]).toEqual([2, 1, false]);
  });

  it("hands a freed slot to the oldest waiter, never to a newcomer", async () => {
    const c = new Capacity(1);
    const release = await c.acquire();
    const order: string[] = [];
    const a = c.acquire().then((r) => (order.push("a"), r));
    const b = c.acquire().then((r) => (order.push("b"), r));
    release();
    // A newcomer arriving after the release must not overtake a and b.
    const late = c.acquire().then((r) => (order.push("late"), r));
    (await a)();
    (await b)();
    (await late)();
    expect(order).toEqual(["a", "b", "late"]);
    expect([c.inFlight, c.queued]).toEqual([0, 0]);
  });

  it("a release called twice frees one slot only", async () => {
    const c = new Capacity(1);
    const release = await c.acquire();
    release();
    release();
    await c.acquire();
    let second = false;
    void c.acquire().then(() => (second = true));
    await tick();
    expect(second).toBe(false);
  });

  it("an aborted waiter leaves the queue and never takes a slot", async () => {
    const c = new Capacity(1);
    const release = await c.acquire();
    const controller = new AbortController();
    const waiting = c.acquire(controller.signal);
    expect(c.queued).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "TM_ERR_UNAVAILABLE" });
    expect(c.queued).toBe(0);
    release();
    expect(c.inFlight).toBe(0);
  });

  it("run gives the slot back when the work fails", async () => {
    const c = new Capacity(1);
    await expect(c.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(c.inFlight).toBe(0);
    expect(await c.run(async () => 42)).toBe(42);
  });

  it("refuses a limit below 1", () => {
    expect(() => new Capacity(0)).toThrow(RangeError);
  });
});
