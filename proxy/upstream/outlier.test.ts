import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import { Backend } from "./backend.js";
import { OutlierDetector } from "./outlier.js";

const cluster = (n: number): Backend[] => Array.from({ length: n }, (_, i) => new Backend({ id: `b${i}`, address: `10.0.0.${i}:80`, capacity: 10 }));

function failTimes(d: OutlierDetector, b: Backend, n: number, now: number, members: Backend[]): boolean {
  let ejected = false;
  for (let i = 0; i < n; i++) ejected = d.record(b, i % 2 ? "connect_failure" : "http_5xx", now, members) || ejected;
  return ejected;
}

describe("OutlierDetector", () => {
  it("ejects after the configured consecutive failures, and a success in between resets the count", () => {
    const members = cluster(4);
    const b = members[0]!;
    const d = new OutlierDetector({ consecutiveFailures: 3 });
    failTimes(d, b, 2, 0, members);
    d.record(b, "success", 0, members);
    expect(failTimes(d, b, 2, 0, members)).toBe(false);
    expect(b.ejectedUntil).toBe(0);
    expect(d.record(b, "reset", 0, members)).toBe(true);
    expect(b.ejectedUntil).toBe(1_000);
  });

  it("does not count timeouts: they measure the tenant's quota, not the backend", () => {
    const members = cluster(2);
    const d = new OutlierDetector({ consecutiveFailures: 1 });
    expect(d.record(members[0]!, "timeout", 0, members)).toBe(false);
  });

  it("doubles the ejection each time the backend fails again after coming back, up to the cap", () => {
    const clock = new ManualClock(0);
    const members = cluster(2);
    const b = members[0]!;
    const d = new OutlierDetector({ consecutiveFailures: 2, baseEjectionMs: 1_000, maxEjectionMs: 5_000 });
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) {
      failTimes(d, b, 2, clock.now(), members);
      lengths.push(b.ejectedUntil - clock.now());
      clock.set(b.ejectedUntil);
      // One success right after returning does not forgive the streak
      d.record(b, "success", clock.now(), members);
    }
    expect(lengths).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(d.ejections(b)).toBe(5);
  });

  it("forgives the streak after a success long enough after the last ejection", () => {
    const clock = new ManualClock(0);
    const members = cluster(2);
    const b = members[0]!;
    const d = new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionMs: 8_000 });
    d.record(b, "http_5xx", 0, members);
    clock.set(1_000);
    d.record(b, "http_5xx", clock.now(), members);
    expect(b.ejectedUntil - clock.now()).toBe(2_000);
    clock.set(3_000 + 8_000);
    d.record(b, "success", clock.now(), members);
    d.record(b, "http_5xx", clock.now(), members);
    expect(b.ejectedUntil - clock.now()).toBe(1_000);
  });

  it("never ejects more than max_ejected_percent of the cluster at once", () => {
    const members = cluster(4);
    const d = new OutlierDetector({ consecutiveFailures: 1, maxEjectedPercent: 50 });
    const ejected = members.map((b) => d.record(b, "http_5xx", 0, members));
    expect(ejected).toEqual([true, true, false, false]);
    // When one comes back, room opens for another
    expect(d.record(members[2]!, "http_5xx", 1_000, members)).toBe(true);
  });

  it("never ejects a lone backend at 50% (turning connect errors into 503s would help no one)", () => {
    const members = cluster(1);
    const d = new OutlierDetector({ consecutiveFailures: 1 });
    expect(d.record(members[0]!, "connect_failure", 0, members)).toBe(false);
  });

  it("does not extend an ejection with failures of requests sent before it", () => {
    const members = cluster(2);
    const b = members[0]!;
    const d = new OutlierDetector({ consecutiveFailures: 1 });
    d.record(b, "http_5xx", 0, members);
    d.record(b, "http_5xx", 500, members);
    expect(b.ejectedUntil).toBe(1_000);
    expect(d.ejections(b)).toBe(1);
  });

  it("rejects nonsense settings", () => {
    expect(() => new OutlierDetector({ consecutiveFailures: 0 })).toThrow();
    expect(() => new OutlierDetector({ baseEjectionMs: 10, maxEjectionMs: 5 })).toThrow();
    expect(() => new OutlierDetector({ maxEjectedPercent: 101 })).toThrow();
  });
});
