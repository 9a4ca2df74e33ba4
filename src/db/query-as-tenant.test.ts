import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../../test/support/db.js";

describe("queryAsTenant: one statement as a tenant, in one round trip on PostgreSQL", () => {
  let t: TestDatabase;
  let a: string;
  let b: string;

  beforeAll(async () => {
    // One pooled connection: every query below reuses the connection the previous one left behind
    t = await openTestDatabase({ poolMax: 1 });
    [a, b] = await t.db.asPlatform(async (trx) => {
      const rows = (await trx("tenants")
        .insert([
          { name: "Tenant A", slug: "qat-a", plan_type: "basic" },
          { name: "Tenant B", slug: "qat-b", plan_type: "basic" },
        ])
        .returning("id")) as Array<{ id: string }>;
      return rows.map((r) => r.id) as [string, string];
    });
  });
  afterAll(() => t.close());

  it("sees the tenant's own rows through row-level security", async () => {
    const rows = await t.db.queryAsTenant<{ id: string }>(a, "SELECT id FROM tenants", []);
    expect(rows).toEqual([{ id: a }]);
  });

  it("tenant A naming tenant B's row gets nothing", async () => {
    expect(await t.db.queryAsTenant(a, "SELECT id, name FROM tenants WHERE id = ?", [b])).toEqual([]);
    expect(await t.db.queryAsTenant(b, "SELECT id, name FROM tenants WHERE id = ?", [a])).toEqual([]);
  });

  it("puts values in as literals that cannot break out of the statement", async () => {
    const hostile = "x'); DELETE FROM tenants; SELECT ('\\";
    const [row] = await t.db.queryAsTenant<Record<string, unknown>>(a, "SELECT ?::text AS s, ?::int AS n, ?::boolean AS yes, ?::text AS none", [hostile, 42, true, null]);
    expect(row).toEqual({ s: hostile, n: 42, yes: true, none: null });
    expect(await t.db.asPlatform((trx) => trx("tenants").count("* as n").first())).toEqual({ n: 2 });
  });

  it("a failing statement rejects and leaves the pooled connection with neither the tenant nor the role", async () => {
    await expect(t.db.queryAsTenant(a, "SELECT 1 / 0 AS x", [])).rejects.toThrow(/division by zero/);
    const [after] = (await t.db.knex.raw("SELECT current_user AS u, current_setting('app.tenant_id', true) AS tenant")).rows as Array<{ u: string; tenant: string | null }>;
    expect(after?.u).not.toBe(t.db.roles.appRole);
    expect(after?.tenant ?? "").toBe("");
    // …and the connection still works as the tenant afterwards
    expect(await t.db.queryAsTenant(b, "SELECT id FROM tenants", [])).toEqual([{ id: b }]);
  });

  it("refuses a tenant id that is not a UUID and a statement whose placeholders do not match its values", async () => {
    await expect(t.db.queryAsTenant("a' OR true --", "SELECT 1", [])).rejects.toMatchObject({ code: "TM_ERR_INVALID_ARGUMENT" });
    await expect(t.db.queryAsTenant(a, "SELECT ? AS x, ? AS y", [1])).rejects.toThrow(/placeholders/);
  });
});
