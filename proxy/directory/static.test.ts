import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import { isAddressAllowed, StaticDirectory, tenantEntryFromConfig, type MappedTenant } from "./static.js";
import { tenantConfig } from "./testing.js";

const mapped = (...args: Parameters<typeof tenantConfig>): MappedTenant => {
  const m = tenantEntryFromConfig(tenantConfig(...args));
  if (m === undefined) throw new Error("unmappable");
  return m;
};

describe("tenantEntryFromConfig", () => {
  it("maps quotas, scale, modules, keys and the session cut-off from the feed's TenantConfig", () => {
    const config = tenantConfig("t1", { priorityLevel: 8 }, ["k1"]);
    config.sessionsValidAfter = new Date(5_000);
    config.apiKeys[0]!.expiresAt = new Date(9_000);
    const m = tenantEntryFromConfig(config)!;
    expect(m.entry).toMatchObject({ id: "t1", status: "active", priority: 8, maxConcurrentRequests: 20, maxResponseTimeMs: 2000, sessionsValidAfter: 5_000 });
    expect(m.entry.scale).toEqual({ current: 2, min: 1, max: 4 });
    expect(m.entry.enabledModules.has("classification")).toBe(true);
    expect(m.keys).toEqual([{ keyId: "k1", secretHash: "hash-k1", role: "admin", expiresAt: 9_000 }]);
  });

  it("fails closed: an unknown status becomes suspended and a config without a tenant maps to nothing", () => {
    expect(mapped("t1", { status: "weird" }).entry.status).toBe("suspended");
    expect(tenantEntryFromConfig({ tenant: undefined, apiKeys: [], sessionsValidAfter: undefined })).toBeUndefined();
  });

  it("compiles network restrictions for IPv4, IPv6 and IPv4-mapped callers", () => {
    const { entry } = mapped("t1", { networkRestrictions: ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"] });
    expect(isAddressAllowed(entry, "10.20.30.40")).toBe(true);
    expect(isAddressAllowed(entry, "::ffff:10.20.30.40")).toBe(true);
    expect(isAddressAllowed(entry, "2001:db8:1::9")).toBe(true);
    expect(isAddressAllowed(entry, "192.168.1.7")).toBe(true);
    expect(isAddressAllowed(entry, "192.168.1.8")).toBe(false);
    expect(isAddressAllowed(entry, "2001:db9::1")).toBe(false);
    expect(isAddressAllowed(entry, "not-an-ip")).toBe(false);
  });

  it("admits any address without restrictions and none when every restriction is unparsable", () => {
    expect(mapped("t1").entry.allowedNetworks).toBeUndefined();
    expect(isAddressAllowed(mapped("t1").entry, "8.8.8.8")).toBe(true);
    expect(isAddressAllowed(mapped("t2", { networkRestrictions: ["bogus/99"] }).entry, "8.8.8.8")).toBe(false);
  });
});

describe("StaticDirectory", () => {
  it("finds tenants by id and by API key id, and forgets replaced keys", () => {
    const dir = new StaticDirectory();
    const a = mapped("a", {}, ["k1", "k2"]);
    dir.upsert(a.entry, a.keys);
    expect(dir.apiKey("k1")?.tenant.id).toBe("a");
    const a2 = mapped("a", { status: "suspended" }, ["k2"]);
    dir.upsert(a2.entry, a2.keys);
    expect(dir.apiKey("k1")).toBeUndefined();
    expect(dir.apiKey("k2")?.tenant.status).toBe("suspended");
    expect(dir.tenant("a")?.status).toBe("suspended");
    expect(dir.remove("a")).toBe(true);
    expect(dir.apiKey("k2")).toBeUndefined();
    expect([...dir.tenants()]).toEqual([]);
  });

  it("notifies listeners with the touched ids after the change is applied, and replaceAll names old and new", () => {
    const clock = new ManualClock(1_000);
    const dir = new StaticDirectory({ clock });
    const heard: string[][] = [];
    const off = dir.onChange((ids) => heard.push([...ids].sort()));
    const a = mapped("a");
    dir.upsert(a.entry, a.keys);
    expect(dir.state().lastUpdateAt).toBe(1_000);
    dir.replaceAll([mapped("b"), mapped("c")]);
    off();
    dir.remove("b");
    expect(heard).toEqual([["a"], ["a", "b", "c"]]);
    expect(dir.tenant("a")).toBeUndefined();
    expect(dir.size).toBe(1);
  });
});
