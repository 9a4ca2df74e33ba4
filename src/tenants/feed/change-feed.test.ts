import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../../../test/support/db.js";
import { systemClock } from "../../auth/clock.js";
import type { TenantChange } from "../../gen/tenantmesh/v1/tenant.js";
import { silentLogger } from "../../log/index.js";
import { ChangeFeed } from "./change-feed.js";
import { compactChanges } from "./config.js";
import { Subscription } from "./subscription.js";

const change = (version: number): TenantChange => ({ version: String(version), tenantId: "t", config: undefined });

describe("Subscription", () => {
  it("hands out queued changes in order, dropping what a snapshot already covered", async () => {
    const sub = new Subscription(0, 10, () => {});
    sub.push([change(1), change(2), change(3)]);
    sub.skipThrough(2);
    sub.push([change(2), change(4)]);
    const signal = new AbortController().signal;
    expect((await sub.next(signal))?.version).toBe("3");
    expect((await sub.next(signal))?.version).toBe("4");
  });

  it("fails with UNAVAILABLE once its backlog passes the bound, and drops the queue", async () => {
    let closed = false;
    const sub = new Subscription(0, 2, () => (closed = true));
    const seen: string[] = [];
    sub.onFailure((err) => seen.push(`before: ${err.code}`));
    const off = sub.onFailure(() => seen.push("removed"));
    off();
    sub.push([change(1), change(2), change(3)]);
    await expect(sub.next(new AbortController().signal)).rejects.toMatchObject({ code: "TM_ERR_UNAVAILABLE" });
    sub.onFailure((err) => seen.push(`after: ${err.code}`));
    expect(seen).toEqual(["before: TM_ERR_UNAVAILABLE", "after: TM_ERR_UNAVAILABLE"]);
    expect(closed).toBe(true);
  });

  it("answers undefined when closed or when the call is cancelled, also while waiting", async () => {
    const sub = new Subscription(0, 10, () => {});
    const controller = new AbortController();
    const waiting = sub.next(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    const other = new Subscription(0, 10, () => {});
    const pending = other.next(new AbortController().signal);
    other.close();
    expect(await pending).toBeUndefined();
  });
});

describe("ChangeFeed", () => {
  let testDb: TestDatabase;
  let feed: ChangeFeed;
  const insertTenant = (slug: string) =>
    testDb.db.asPlatform((trx) => trx("tenants").insert({ name: slug, slug, plan_type: "basic", status: "active" }).returning("id"));

  beforeAll(async () => {
    testDb = await openTestDatabase();
    feed = new ChangeFeed({ db: testDb.db, clock: systemClock, log: silentLogger, pollIntervalMs: 20 });
  });
  afterAll(async () => {
    feed.close();
    await testDb.close();
  });

  it("polls only while someone watches, and delivers what was committed after joining", async () => {
    expect(feed.polling).toBe(false);
    const sub = await feed.subscribe();
    expect(feed.watchers).toBe(1);
    expect(feed.polling).toBe(true);
    const [row] = await insertTenant("feed-one");
    feed.wake();
    const got = await sub.next(new AbortController().signal);
    expect(got?.tenantId).toBe((row as { id: string }).id);
    expect(Number(got?.version)).toBeGreaterThan(sub.joinedAt);
    sub.close();
    expect(feed.watchers).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(feed.polling).toBe(false);
  });

  it("catches a late joiner up from the log: changesSince covers (from, joinedAt]", async () => {
    const snap = await feed.snapshot();
    const [row] = await insertTenant("feed-two");
    const sub = await feed.subscribe();
    const caughtUp = await feed.changesSince(snap.version, sub.joinedAt);
    expect(caughtUp).not.toBe("reset");
    expect((caughtUp as TenantChange[]).map((c) => c.tenantId)).toContain((row as { id: string }).id);
    sub.close();
  });

  it("refuses to resume from a compacted or future version", async () => {
    await insertTenant("feed-three");
    const { version } = await feed.snapshot();
    expect(await feed.changesSince(version + 100, version + 100)).toBe("reset");
    await testDb.db.asPlatform((trx) => compactChanges(trx, 0, new Date(Date.now() + 60_000)));
    expect(await feed.changesSince(1, version)).toBe("reset");
    // The newest row survives compaction: the current version can still be resumed from.
    expect(await feed.changesSince(version, version)).toEqual([]);
  });
});
