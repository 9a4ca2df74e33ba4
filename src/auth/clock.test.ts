import { describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "./clock.js";

describe("systemClock", () => {
  it("reads wall-clock milliseconds", () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe("ManualClock", () => {
  it("starts where told and moves only when told", () => {
    const clock = new ManualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    clock.set(10);
    expect(clock.now()).toBe(10);
  });

  it("starts at the epoch by default", () => {
    expect(new ManualClock().now()).toBe(0);
  });

  it("rejects negative or non-finite moves", () => {
    const clock = new ManualClock();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.set(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });
});
