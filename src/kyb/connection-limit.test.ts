import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../../test/support/db.js";
import { ManualClock } from "../auth/clock.js";
import type { Database, Tx } from "../db/index.js";
import { limitTenantConnections } from "./connection-limit.js";

/** A database whose tenant transactions wait until released, recording how many run at once per tenant */
function fakeDatabase(limits: Record<string, number>) {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const pending: Array<() => void> = [];
  let limitReads = 0;
  /** Holds one of the tenant's connections until the test releases it */
  const hold = async (tenantId: string): Promise<void> => {
    running.set(tenantId, (running.get(tenantId) ?? 0) + 1);
    peak.set(tenantId, Math.max(peak.get(tenantId) ?? 0, running.get(tenantId)!));
    await new Promise<void>((resolve) => pending.push(resolve));
    running.set(tenantId, running.get(tenantId)! - 1);
  };
  const db = {
    kind: "postgres",
    async withTenant<T>(tenantId: string, fn: (trx: Tx) => Promise<T>): Promise<T> {
      // The limit read: a query builder answering the tenant's row
      const probe = { select: () => ({ where: () => ({ first: async () => ({ database_connections: limits[tenantId] ?? 0 }) }) }) };
      if (fn.toString().includes("database_connections")) {
        limitReads++;
        return fn((() => probe) as unknown as Tx);
      }
      await hold(tenantId);
      return fn({} as Tx);
    },
    async queryAsTenant(tenantId: string): Promise<string[]> {
      await hold(tenantId);
      return [tenantId];
    },
  } as unknown as Database;
  return { db, peak, pending, reads: () => limitReads };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("per-tenant database connections", () => {
  it("runs at most database_connections transactions of a tenant at once; others are not held up", async () => {
    const fake = fakeDatabase({ a: 2, b: 3 });
    const db = limitTenantConnections(fake.db, { clock: new ManualClock(0) });
    const work = [...Array.from({ length: 6 }, () => db.withTenant("a", async () => "a")), ...Array.from({ length: 3 }, () => db.withTenant("b", async () => "b"))];
    await tick();
    await tick();
    expect(db.connectionsOf("a")).toEqual({ inUse: 2, waiting: 4, limit: 2 });
    expect(db.connectionsOf("b")).toEqual({ inUse: 3, waiting: 0, limit: 3 });
    while (fake.pending.length > 0) {
      fake.pending.shift()!();
      await tick();
      await tick();
    }
    expect(await Promise.all(work)).toEqual(["a", "a", "a", "a", "a", "a", "b", "b", "b"]);
    expect(fake.peak.get("a")).toBe(2);
    expect(fake.peak.get("b")).toBe(3);
    expect(db.connectionsOf("a").inUse).toBe(0);
  });

  it("one-statement reads (queryAsTenant) share the tenant's connections with its transactions", async () => {
    const fake = fakeDatabase({ a: 2 });
    const db = limitTenantConnections(fake.db, { clock: new ManualClock(0) });
    const work = [db.withTenant("a", async () => ["tx"]), db.queryAsTenant("a", "SELECT 1", []), db.queryAsTenant("a", "SELECT 1", [])];
    await tick();
    await tick();
    expect(db.connectionsOf("a")).toEqual({ inUse: 2, waiting: 1, limit: 2 });
    while (fake.pending.length > 0) {
      fake.pending.shift()!();
      await tick();
      await tick();
    }
    expect(await Promise.all(work)).toEqual([["tx"], ["a"], ["a"]]);
    expect(fake.peak.get("a")).toBe(2);
    expect(db.connectionsOf("a").inUse).toBe(0);
  });

  it("reads the quota once per ttl, and 0 means no per-tenant limit", async () => {
    const clock = new ManualClock(0);
    const fake = fakeDatabase({ c: 0 });
    const db = limitTenantConnections(fake.db, { clock, ttlMs: 1_000 });
    const work = Array.from({ length: 5 }, () => db.withTenant("c", async () => 1));
    await tick();
    await tick();
    expect(db.connectionsOf("c").inUse).toBe(5);
    fake.pending.splice(0).forEach((f) => f());
    await Promise.all(work);
    expect(fake.reads()).toBe(1);
    clock.advance(1_500);
    const again = db.withTenant("c", async () => 1);
    await tick();
    fake.pending.splice(0).forEach((f) => f());
    await again;
    expect(fake.reads()).toBe(2);
  });
});

describe("per-tenant database connections on the test database", () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await openTestDatabase();
  });
  afterAll(async () => {
    await testDb?.close();
  });

  it("takes the limit from the tenant's own row (row-level security on)", async () => {
    const id = randomUUID();
    await testDb.db.asPlatform((trx) => trx("tenants").insert({ id, name: "Conn", slug: `conn-${id.slice(0, 8)}`, plan_type: "basic", database_connections: 3 }));
    const db = limitTenantConnections(testDb.db, { clock: new ManualClock(0) });
    const rows = await db.withTenant(id, (trx) => trx("tenants").select("id"));
    expect(rows).toEqual([{ id }]);
    expect(db.connectionsOf(id)).toEqual({ inUse: 0, waiting: 0, limit: 3 });
  });
});
