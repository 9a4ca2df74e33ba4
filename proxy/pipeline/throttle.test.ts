import { describe, expect, it } from "vitest";
import { TenantMeshError } from "../../src/errors/index.js";
import type { ProxyContext } from "../context.js";
import type { TenantEntry } from "../directory/types.js";
import { ConcurrencyThrottle, throttle } from "./throttle.js";

const tenant = (max: number): TenantEntry => ({ id: "t", slug: "t", maxConcurrentRequests: max }) as TenantEntry;

describe("ConcurrencyThrottle", () => {
  it("admits up to the tenant's limit, refuses beyond with Retry-After, and counts a release once", () => {
    const t = new ConcurrencyThrottle();
    const a = t.admit(tenant(2));
    const b = t.admit(tenant(2));
    const c = t.admit(tenant(2));
    expect([a.kind, b.kind, c.kind]).toEqual(["allow", "allow", "reject"]);
    expect(c.kind === "reject" && [c.error.code, c.retryAfterSeconds]).toEqual(["TM_ERR_RATE_LIMITED", 1]);
    if (a.kind === "allow") {
      a.release();
      a.release();
    }
    expect(t.current("t")).toBe(1);
    expect(t.admit(tenant(2)).kind).toBe("allow");
  });

  it("treats a limit of 0 as no limit", () => {
    const t = new ConcurrencyThrottle();
    for (let i = 0; i < 100; i++) expect(t.admit(tenant(0)).kind).toBe("allow");
  });
});

describe("throttle stage", () => {
  const ctx = (): ProxyContext => ({ tenant: tenant(1), timings: { throttledMs: 0 } }) as unknown as ProxyContext;

  it("releases the slot and the in-flight count on success, on a failure value and on a throw", async () => {
    const limiter = new ConcurrencyThrottle();
    const inFlight: number[] = [];
    const observer = { inFlight: (_id: string, d: number) => inFlight.push(d) };
    const handlers = [
      () => Promise.resolve(undefined),
      () => Promise.resolve(new TenantMeshError("TM_ERR_UNAVAILABLE", "x")),
      () => Promise.reject(new Error("bug")),
    ];
    for (const next of handlers) {
      await throttle(limiter, observer)(next)(ctx()).catch(() => undefined);
      expect(limiter.current("t")).toBe(0);
    }
    expect(inFlight).toEqual([1, -1, 1, -1, 1, -1]);
  });

  it("returns the rejection with its Retry-After and never calls the next stage", async () => {
    const limiter = new ConcurrencyThrottle();
    limiter.admit(tenant(1));
    let called = false;
    const result = await throttle(limiter)(() => {
      called = true;
      return Promise.resolve(undefined);
    })(ctx());
    expect(called).toBe(false);
    expect([result?.code, result?.retryAfterSeconds]).toEqual(["TM_ERR_RATE_LIMITED", 1]);
  });
});
