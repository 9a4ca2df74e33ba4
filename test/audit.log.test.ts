import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditRelay, relayTenant, type AuditEventInput } from "../src/audit/index.js";
import { linkHash } from "../src/audit/chain.js";
import { ManualClock } from "../src/auth/index.js";
import type { Tx } from "../src/db/index.js";
import { quoteIdent } from "../src/db/roles.js";
import { LocalKeyStore } from "../src/security/index.js";
import { createSecurityRuntime, type SecurityRuntime } from "../src/security/runtime.js";
import { purgeTenant } from "../src/security/shred.js";
import { insertTenantEvent } from "../src/tenants/store.js";
import { insertTestTenant } from "../src/users/testing.js";
import { onPostgres, openTestDatabase, type TestDatabase } from "./support/db.js";

/**
 * The audit log on a real database: append-only for the application (grants and a trigger), tamper-evident
 * for a superuser (hash chain and MAC), serialized per tenant under concurrency, kept after a purge, and
 * recording what each audit level says.
 */
const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
let testDb: TestDatabase;
let rt: SecurityRuntime;

const event = (n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  action: "policy.updated",
  actor: "user:test",
  target: `thing:${n}`,
  requestId: `req-${n}`,
  essential: true,
  detail: { n, nested: { b: [1, 2.5, "ü"], a: null } },
  ...extra,
});

const sqlState = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "succeeded";
  } catch (err) {
    return String((err as { code?: string }).code);
  }
};

/** As the database superuser (the login role of the tests), with the append-only trigger switched off */
async function asSuperuserWithoutTrigger(fn: (trx: Tx) => Promise<unknown>): Promise<void> {
  await testDb.db.knex.transaction(async (trx) => {
    await trx.raw("ALTER TABLE audit_events DISABLE TRIGGER audit_events_immutable");
    await fn(trx);
    await trx.raw("ALTER TABLE audit_events ENABLE TRIGGER audit_events_immutable");
  });
}

const verify = (tenantId: string) => testDb.db.withTenant(tenantId, (trx) => rt.audit.verify(trx, tenantId));
const list = (tenantId: string, action?: string) => testDb.db.withTenant(tenantId, (trx) => rt.audit.list(trx, tenantId, { afterSeq: 0, limit: 1_000, action }));

async function tenantWithEvents(n: number): Promise<string> {
  const t = await insertTestTenant(testDb.db);
  for (let i = 1; i <= n; i++) await rt.audit.record(t.id, event(i));
  return t.id;
}

beforeAll(async () => {
  testDb = await openTestDatabase({ poolMax: 8 });
  rt = createSecurityRuntime({ db: testDb.db, clock, keystore: new LocalKeyStore() });
});
afterAll(async () => testDb.close());

describe("append-only", () => {
  it("the application and platform roles cannot UPDATE, DELETE or TRUNCATE audit rows", async () => {
    const id = await tenantWithEvents(2);
    expect(await sqlState(testDb.db.withTenant(id, (trx) => trx("audit_events").where({ tenant_id: id }).update({ actor: "x" })))).toBe("42501");
    expect(await sqlState(testDb.db.withTenant(id, (trx) => trx("audit_events").where({ tenant_id: id }).delete()))).toBe("42501");
    expect(await sqlState(testDb.db.asPlatform((trx) => trx("audit_events").where({ tenant_id: id }).update({ actor: "x" })))).toBe("42501");
    expect(await sqlState(testDb.db.asPlatform((trx) => trx("audit_events").where({ tenant_id: id }).delete()))).toBe("42501");
    expect(await sqlState(testDb.db.asPlatform((trx) => trx.raw("TRUNCATE audit_events")))).toBe("42501");
    expect(await verify(id)).toMatchObject({ ok: true, checked: 2 });
  });

  it("the trigger refuses changes even to a role that was granted them (a superuser here)", async () => {
    const id = await tenantWithEvents(1);
    expect(await sqlState(testDb.db.knex("audit_events").where({ tenant_id: id }).update({ actor: "x" }))).toBe("42501");
    expect(await sqlState(testDb.db.knex("audit_events").where({ tenant_id: id }).delete())).toBe("42501");
  });
});

describe("tamper evidence", () => {
  it("a row changed behind the application's back is named by VerifyAuditLog", async () => {
    const id = await tenantWithEvents(5);
    await asSuperuserWithoutTrigger((trx) => trx("audit_events").where({ tenant_id: id, seq: 3 }).update({ actor: "someone-else" }));
    expect(await verify(id)).toMatchObject({ ok: false, checked: 2, firstBroken: { seq: 3, reason: "hash_mismatch" } });
  });

  it("a removed row is a sequence gap", async () => {
    const id = await tenantWithEvents(4);
    await asSuperuserWithoutTrigger((trx) => trx("audit_events").where({ tenant_id: id, seq: 2 }).delete());
    expect(await verify(id)).toMatchObject({ ok: false, firstBroken: { seq: 3, reason: "sequence_gap" } });
  });

  it("a chain rewritten with recomputed hashes still fails: the MAC key is not in the database", async () => {
    const id = await tenantWithEvents(4);
    await asSuperuserWithoutTrigger(async (trx) => {
      const rows = await trx("audit_events").where({ tenant_id: id }).orderBy("seq");
      let prev = rows[1].prev_hash as string;
      for (const row of rows.slice(1)) {
        const detail = row.seq === 2 ? { ...row.detail, n: 999 } : row.detail;
        const hash = linkHash({
          tenantId: id,
          seq: Number(row.seq),
          occurredAt: row.occurred_at,
          actor: row.actor,
          action: row.action,
          outcome: row.outcome,
          target: row.target,
          requestId: row.request_id,
          detail,
          prevHash: prev,
        });
        await trx("audit_events").where({ tenant_id: id, seq: row.seq }).update({ detail: JSON.stringify(detail), prev_hash: prev, hash });
        prev = hash;
      }
    });
    expect(await verify(id)).toMatchObject({ ok: false, checked: 1, firstBroken: { seq: 2, reason: "mac_mismatch" } });
  });
});

describe("concurrency", () => {
  it("many parallel appends for one tenant make one unbroken chain", async () => {
    const t = await insertTestTenant(testDb.db);
    const n = 120;
    await Promise.all(Array.from({ length: n }, (_, i) => rt.audit.record(t.id, event(i))));
    const events = await list(t.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (let i = 1; i < events.length; i++) expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
    expect(await verify(t.id)).toMatchObject({ ok: true, checked: n, head: { seq: n } });
  });

  it.runIf(onPostgres())("appends really overlap on PostgreSQL (several connections) and still serialize", async () => {
    const t = await insertTestTenant(testDb.db);
    const pids = new Set<number>();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        testDb.db.withTenant(t.id, async (trx) => {
          pids.add(Number(((await trx.raw("SELECT pg_backend_pid() AS pid")) as { rows: Array<{ pid: number }> }).rows[0]?.pid));
          await rt.audit.append(trx, t.id, event(i));
        }),
      ),
    );
    expect(pids.size).toBeGreaterThan(1);
    expect(await verify(t.id)).toMatchObject({ ok: true, checked: 40 });
  });
});

describe("lifetime", () => {
  it("outlives a purged and deleted tenant, still verifiable", async () => {
    const id = await tenantWithEvents(3);
    await testDb.db.asPlatform((trx) => trx("tenants").where({ id }).update({ status: "cancelled", deleted_at: new Date() }));
    await purgeTenant({ db: testDb.db, keyring: rt.keyring, audit: rt.audit, clock }, { tenantId: id, actor: "operator", reason: "test" });
    await testDb.db.asPlatform((trx) => trx("tenants").where({ id }).delete());
    const left = await testDb.db.asPlatform((trx) => trx("audit_events").where({ tenant_id: id }).count({ n: "*" }).first());
    expect(Number(left?.n)).toBe(4);
    expect(await verify(id)).toMatchObject({ ok: true, checked: 4 });
    expect((await list(id)).at(-1)?.action).toBe("tenant.crypto_shredded");
  });

  it("is isolated by tenant: A sees none of B's events", async () => {
    const a = await tenantWithEvents(1);
    const b = await tenantWithEvents(2);
    const seen = await testDb.db.withTenant(a, (trx) => trx("audit_events").select("tenant_id"));
    expect(new Set(seen.map((r: { tenant_id: string }) => r.tenant_id))).toEqual(new Set([a]));
    expect(await testDb.db.withTenant(a, (trx) => rt.audit.list(trx, b, { afterSeq: 0, limit: 10 }))).toEqual([]);
  });
});

describe("audit levels and the relay", () => {
  const setLevel = (id: string, level: string) =>
    testDb.db.asPlatform((trx) => trx("tenants").where({ id }).update({ security_policy: JSON.stringify({ audit_level: level }) }));

  it("basic records failures without detail and skips successes; detailed adds both; comprehensive adds key use and the peer", async () => {
    const t = await insertTestTenant(testDb.db);
    const auth = (action: "auth.success" | "auth.failure"): AuditEventInput => ({ action, actor: "anonymous", detail: { reason: "x" }, context: { peer: "ipv4:10.0.0.1:5" } });
    await setLevel(t.id, "basic");
    await rt.audit.record(t.id, auth("auth.success"));
    await rt.audit.record(t.id, auth("auth.failure"));
    await setLevel(t.id, "detailed");
    await rt.audit.record(t.id, auth("auth.success"));
    await rt.audit.record(t.id, { action: "data.decrypted", actor: "user:u" });
    await setLevel(t.id, "comprehensive");
    await rt.audit.record(t.id, { ...auth("auth.failure"), action: "data.decrypted" });
    const events = await list(t.id);
    expect(events.map((e) => [e.action, e.detail])).toEqual([
      ["auth.failure", {}],
      ["auth.success", { reason: "x" }],
      ["data.decrypted", { reason: "x", peer: "ipv4:10.0.0.1:5" }],
    ]);
  });

  it("relays tenant events (lifecycle, API keys) into the log once each, with their actor", async () => {
    const t = await insertTestTenant(testDb.db);
    await testDb.db.withTenant(t.id, async (trx) => {
      await insertTenantEvent(trx, { tenantId: t.id, type: "suspended", actor: "operator", detail: { from: "active", to: "suspended" } });
      await insertTenantEvent(trx, { tenantId: t.id, type: "api_key_created", actor: "user:1", detail: { key_id: "k1", role: "admin" } });
    });
    expect(await relayTenant(testDb.db, rt.audit, t.id)).toBe(2);
    expect(await relayTenant(testDb.db, rt.audit, t.id)).toBe(0);
    // One transaction: the same created_at, so no order between the two is known.
    const events = await list(t.id);
    expect(events.map((e) => [e.action, e.actor, e.target])).toEqual(
      expect.arrayContaining([
        ["tenant.suspended", "operator", `tenant:${t.id}`],
        ["api_key.created", "user:1", "api_key:k1"],
      ]),
    );
    expect(events).toHaveLength(2);
    expect(await verify(t.id)).toMatchObject({ ok: true });
  });

  it("the platform's relay job relays every tenant's events, then only new ones", async () => {
    const relay = new AuditRelay(testDb.db, rt.audit);
    const t = await insertTestTenant(testDb.db);
    await testDb.db.withTenant(t.id, (trx) => insertTenantEvent(trx, { tenantId: t.id, type: "reactivated", actor: "operator" }));
    expect(await relay.run()).toBeGreaterThanOrEqual(1);
    expect(await relay.run()).toBe(0);
    await testDb.db.withTenant(t.id, (trx) => insertTenantEvent(trx, { tenantId: t.id, type: "plan_changed", actor: "operator", detail: { to: "enterprise" } }));
    expect(await relay.run()).toBe(1);
    expect((await list(t.id)).map((e) => e.action)).toEqual(["tenant.reactivated", "tenant.plan_changed"]);
  });

  it("hashes what it stores: odd details survive the database round trip", async () => {
    const t = await insertTestTenant(testDb.db);
    await rt.audit.record(t.id, event(1, { detail: { z: 1e21, a: -0.1, s: "nul\u0000 ✓ \u{1F510}", when: new Date(0), list: [{ y: 1, x: 2 }] } }));
    expect(await verify(t.id)).toMatchObject({ ok: true, checked: 1 });
  });

  it("quotes identifiers safely (role names come from config)", () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});
