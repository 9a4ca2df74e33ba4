import { describe, expect, it } from "vitest";
import { Backend } from "./backend.js";

const backend = (capacity = 4): Backend => new Backend({ id: "b1", address: "10.0.0.1:8080", capacity });

describe("Backend", () => {
  it("counts in-flight requests overall and per tenant, and load as inFlight / capacity", () => {
    const b = backend(4);
    b.acquire("acme");
    b.acquire("acme");
    b.acquire("globex");
    expect(b.inFlight).toBe(3);
    expect(b.load).toBe(0.75);
    expect(b.inFlightFor("acme")).toBe(2);
    expect(b.inFlightFor("globex")).toBe(1);
    expect(b.inFlightFor("initech")).toBe(0);
  });

  it("release is one-shot: a second call neither frees a slot nor goes negative", () => {
    const b = backend();
    const release = b.acquire("acme");
    b.acquire("acme");
    expect(release()).toBe(true);
    expect(release()).toBe(false);
    expect(release()).toBe(false);
    expect(b.inFlight).toBe(1);
    expect(b.inFlightFor("acme")).toBe(1);
  });

  it("keeps the per-tenant map bounded by deleting tenants whose count reaches zero", () => {
    const b = backend(1000);
    const releases = Array.from({ length: 500 }, (_, i) => b.acquire(`tenant-${i}`));
    expect(b.activeTenants).toBe(500);
    for (const release of releases) release();
    expect(b.activeTenants).toBe(0);
    expect(b.toJSON().tenantInFlight).toEqual({});
  });

  it("is available unless unhealthy or ejected until after now", () => {
    const b = backend();
    expect(b.isAvailable(0)).toBe(true);
    b.ejectedUntil = 1_000;
    expect(b.isAvailable(999)).toBe(false);
    expect(b.isAvailable(1_000)).toBe(true);
    b.health = "degraded";
    expect(b.isAvailable(2_000)).toBe(true);
    b.health = "unhealthy";
    expect(b.isAvailable(2_000)).toBe(false);
  });

  it("rejects a non-positive or fractional capacity, a non-positive weight and an empty id", () => {
    expect(() => backend(0)).toThrow(RangeError);
    expect(() => backend(1.5)).toThrow(RangeError);
    expect(() => new Backend({ id: "b", address: "x:1", capacity: 1, weight: 0 })).toThrow(RangeError);
    expect(() => new Backend({ id: "", address: "x:1", capacity: 1 })).toThrow(RangeError);
  });

  it("snapshots its state for the admin API", () => {
    const b = new Backend({ id: "b1", address: "10.0.0.1:8080", capacity: 2, weight: 3, health: "degraded" });
    b.acquire("acme");
    expect(b.toJSON()).toEqual({
      id: "b1",
      address: "10.0.0.1:8080",
      health: "degraded",
      capacity: 2,
      weight: 3,
      inFlight: 1,
      load: 0.5,
      ejectedUntil: 0,
      tenantInFlight: { acme: 1 },
    });
  });
});
