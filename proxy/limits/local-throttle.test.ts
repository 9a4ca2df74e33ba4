import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import { TenantMeshError } from "../../src/errors/index.js";
import { ProxyContext } from "../context.js";
import { tenantEntryFromConfig } from "../directory/entry.js";
import { tenantConfig } from "../directory/testing.js";
import type { TenantEntry } from "../directory/types.js";
import { throttle, type ThrottleDecision } from "../pipeline/throttle.js";
import { LocalThrottle } from "./local-throttle.js";
import { RateLimitedError, rateLimitFields } from "./rate-limited.js";

type Quota = { rpm?: number; burst?: number; rps?: number; concurrent?: number };

function tenant(id: string, q: Quota = {}): TenantEntry {
  const config = tenantConfig(id, {
    apiRateLimit: q.rpm ?? 600,
    burst: q.burst ?? 5,
    performanceQuota: { maxResponseTimeMs: 1_000, maxThroughputRps: q.rps ?? 0, maxConcurrentReqs: q.concurrent ?? 0, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 },
  });
  return tenantEntryFromConfig(config)!.entry;
}

/** Admits `n` requests (releasing each at once) and counts the allowed ones */
function admitted(limiter: LocalThrottle, t: TenantEntry, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const d = limiter.admit(t);
    if (d.kind === "allow") {
      ok++;
      d.release();
    }
  }
  return ok;
}

const refusal = (d: ThrottleDecision): RateLimitedError => {
  if (d.kind !== "reject" || !(d.error instanceof RateLimitedError)) throw new Error(`expected a rate-limit refusal, got ${d.kind}`);
  return d.error;
};

describe("LocalThrottle token buckets", () => {
  it("admits the burst at once, then refills at api_rate_limit per minute", () => {
    const clock = new ManualClock(1_000);
    const limiter = new LocalThrottle({ clock });
    const t = tenant("a", { rpm: 600, burst: 5 }); // 10 per second
    expect(admitted(limiter, t, 20)).toBe(5);
    clock.advance(100); // one token
    expect(admitted(limiter, t, 5)).toBe(1);
    clock.advance(250); // two and a half
    expect(admitted(limiter, t, 5)).toBe(2);
    clock.advance(60_000); // refill is capped at the burst
    expect(admitted(limiter, t, 20)).toBe(5);
  });

  it("admits at most burst + api_rate_limit over a minute", () => {
    const clock = new ManualClock(0);
    const limiter = new LocalThrottle({ clock });
    const t = tenant("a", { rpm: 120, burst: 10 });
    let total = 0;
    for (let ms = 0; ms < 60_000; ms += 50) {
      total += admitted(limiter, t, 3);
      clock.advance(50);
    }
    expect(total).toBeLessThanOrEqual(130);
    expect(total).toBeGreaterThanOrEqual(128);
  });

  it("says when the next token comes, with RateLimit-Policy and RateLimit fields", () => {
    const clock = new ManualClock(0);
    const limiter = new LocalThrottle({ clock });
    const t = tenant("a", { rpm: 6, burst: 1 }); // one token per 10 s
    expect(limiter.admit(t).kind).toBe("allow");
    clock.advance(2_500);
    const error = refusal(limiter.admit(t));
    expect(error.code).toBe("TM_ERR_RATE_LIMITED");
    expect(error.limit).toBe("minute");
    expect(error.retryAfterMs).toBeCloseTo(7_500, 5);
    expect(error.retryAfterSeconds).toBe(8);
    expect(rateLimitFields(error)).toEqual({ "ratelimit-policy": '"minute";q=6;w=60', ratelimit: '"minute";r=0;t=8' });
  });

  it("paces a burst at max_throughput_rps, taking a token from both buckets or from neither", () => {
    const clock = new ManualClock(0);
    const limiter = new LocalThrottle({ clock });
    const t = tenant("a", { rpm: 60_000, burst: 1_000, rps: 4 });
    expect(admitted(limiter, t, 10)).toBe(4);
    const error = refusal(limiter.admit(t));
    expect(error.limit).toBe("second");
    expect(rateLimitFields(error)["ratelimit-policy"]).toBe('"minute";q=60000;w=60, "second";q=4;w=1');
    clock.advance(500);
    expect(admitted(limiter, t, 10)).toBe(2);
    // The refused requests spent nothing from the minute bucket: 1,000 − 6 left
    clock.advance(10_000);
    expect(admitted(limiter, t, 10)).toBe(4);
  });

  it("treats 0 as no limit, and keeps tokens (capped to a smaller burst) across a quota change", () => {
    const clock = new ManualClock(0);
    const limiter = new LocalThrottle({ clock });
    expect(admitted(limiter, tenant("free", { rpm: 0, rps: 0 }), 1_000)).toBe(1_000);
    expect(admitted(limiter, tenant("a", { rpm: 60, burst: 10 }), 4)).toBe(4);
    expect(admitted(limiter, tenant("a", { rpm: 60, burst: 3 }), 10)).toBe(3);
  });

  it("keeps tenants apart", () => {
    const limiter = new LocalThrottle({ clock: new ManualClock(0) });
    expect(admitted(limiter, tenant("a", { burst: 2 }), 5)).toBe(2);
    expect(admitted(limiter, tenant("b", { burst: 2 }), 5)).toBe(2);
  });

  it("enforces a share of each limit (a replica's insurance share while Redis is down)", () => {
    const clock = new ManualClock(0);
    const limiter = new LocalThrottle({ clock, share: 0.5 });
    const t = tenant("a", { rpm: 600, burst: 10 });
    expect(admitted(limiter, t, 20)).toBe(5);
    clock.advance(1_000);
    expect(admitted(limiter, t, 20)).toBe(5);
  });

  it("forgets idle tenants once their buckets are full again", () => {
    const clock = new ManualClock(0);
    const limiter = new LocalThrottle({ clock, sweepEvery: 1_000_000 });
    admitted(limiter, tenant("a", { rpm: 60, burst: 2 }), 2);
    expect(limiter.size).toBe(1);
    limiter.sweep(clock.now() + 1_000);
    expect(limiter.size).toBe(1);
    limiter.sweep(clock.now() + 2_000);
    expect(limiter.size).toBe(0);
  });
});

describe("LocalThrottle concurrency, through the throttle stage", () => {
  const ctx = (): ProxyContext => new ProxyContext("http", { kind: "upgrade" } as never, "GET", "/", "", "", "127.0.0.1", {}, "r", 0);

  it("refuses beyond max_concurrent_requests and frees the slot on success, error, throw and abort", async () => {
    const limiter = new LocalThrottle({ clock: new ManualClock(0) });
    const t = tenant("a", { concurrent: 2, rpm: 0 });
    let finish: Array<(v: TenantMeshError | undefined) => void> = [];
    const stage = throttle(limiter)((c) => {
      if (c.path === "/throw") return Promise.reject(new Error("bug"));
      return new Promise((resolve) => finish.push(resolve));
    });
    const run = (path = "/"): Promise<TenantMeshError | undefined> => {
      const c = ctx();
      Object.assign(c, { tenant: t, path });
      return stage(c);
    };
    const first = run();
    const second = run();
    const third = await run();
    expect(third).toBeInstanceOf(RateLimitedError);
    expect((third as RateLimitedError).limit).toBe("concurrency");
    expect(limiter.inFlight("a")).toBe(2);

    finish[0]!(undefined); // success
    finish[1]!(new TenantMeshError("TM_ERR_BAD_GATEWAY", "upstream died")); // error
    await Promise.all([first, second]);
    expect(limiter.inFlight("a")).toBe(0);

    await expect(run("/throw")).rejects.toThrow("bug");
    expect(limiter.inFlight("a")).toBe(0);

    // A client abort ends the handler's promise (the forwarder resolves when the exchange closes)
    finish = [];
    const aborted = run();
    expect(limiter.inFlight("a")).toBe(1);
    finish[0]!(undefined);
    await aborted;
    expect(limiter.inFlight("a")).toBe(0);
  });

  it("releases once however often release is called", () => {
    const limiter = new LocalThrottle({ clock: new ManualClock(0) });
    const t = tenant("a", { concurrent: 1, rpm: 0 });
    const d = limiter.admit(t);
    if (d.kind !== "allow") throw new Error("expected allow");
    const other = limiter.admit(t);
    expect(other.kind).toBe("reject");
    d.release();
    d.release();
    expect(limiter.inFlight("a")).toBe(0);
    const again = limiter.admit(t);
    expect(again.kind).toBe("allow");
    expect(limiter.admit(t).kind).toBe("reject");
  });
});
