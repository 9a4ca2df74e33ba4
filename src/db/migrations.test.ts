import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onPostgres, openTestDatabase, type TestDatabase } from "../../test/support/db.js";
import { migrateLatest, migrateRollbackAll, migrationStatus } from "./migrate.js";
import { migrations } from "./migrations/index.js";

/**
 * Every migration runs up, all the way down and up again on a fresh database (PGlite, or a scratch PostgreSQL
 * database when DATABASE_URL is set), and after each "up" the schema keeps the isolation invariants: every
 * tenant-scoped table has row-level security ENABLEd and FORCEd with a tenant policy, and the application role
 * can bypass none of it.
 */

/** knex's own bookkeeping: the only tables allowed to outlive a full rollback */
const knexTables = ["knex_migrations", "knex_migrations_lock"];
const names = migrations.map((m) => m.name);

let testDb: TestDatabase;
const raw = async <T>(sql: string, bindings: readonly string[] = []): Promise<T[]> =>
  ((await testDb.db.knex.raw(sql, bindings)) as { rows: T[] }).rows;

interface TableSecurity {
  table: string;
  key: string;
  rls: boolean;
  force: boolean;
  owner: string;
}

/** Every base table with a `tenant_id` column, plus `tenants` (keyed on `id`), with its RLS flags */
const tenantTables = (): Promise<TableSecurity[]> =>
  raw<TableSecurity>(`
    SELECT cl.relname AS table, a.attname AS key, cl.relrowsecurity AS rls, cl.relforcerowsecurity AS force,
           pg_get_userbyid(cl.relowner) AS owner
      FROM pg_class cl
      JOIN pg_attribute a ON a.attrelid = cl.oid AND NOT a.attisdropped AND a.attnum > 0
     WHERE cl.relnamespace = current_schema()::regnamespace AND cl.relkind IN ('r', 'p')
       AND (a.attname = 'tenant_id' OR (cl.relname = 'tenants' AND a.attname = 'id'))
     ORDER BY cl.relname`);

const schemaTables = async (): Promise<string[]> =>
  (await raw<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")).map((r) => r.name);

const schemaFunctions = async (): Promise<string[]> =>
  (
    await raw<{ name: string }>(
      "SELECT proname AS name FROM pg_proc WHERE pronamespace = current_schema()::regnamespace ORDER BY 1",
    )
  ).map((r) => r.name);

/** The isolation invariants every fully migrated schema must hold */
async function expectIsolationInvariants(): Promise<void> {
  const { appRole, platformRole } = testDb.db.roles;
  const tables = await tenantTables();
  expect(tables.map((t) => t.table)).toEqual(expect.arrayContaining(["tenants", "users", "businesses"]));
  for (const t of tables) {
    expect({ table: t.table, rls: t.rls, force: t.force }).toEqual({ table: t.table, rls: true, force: true });
    expect(t.owner, `${t.table} must not be owned by the application role`).not.toBe(appRole);

    const policies = await raw<{ name: string; cmd: string; permissive: string; roles: string[]; qual: string | null; check: string | null }>(
      `SELECT policyname AS name, cmd, permissive, roles::text[] AS roles, qual, with_check AS check
         FROM pg_policies WHERE schemaname = current_schema() AND tablename = ?`,
      [t.table],
    );
    expect(policies.length, `${t.table} has a row-level security policy`).toBeGreaterThanOrEqual(1);
    // A permissive policy that does not key on the tenant would OR itself into every tenant's view.
    for (const p of policies.filter((x) => x.permissive === "PERMISSIVE")) {
      expect(p.qual, `${t.table}.${p.name} keys on ${t.key} and app.tenant_id`).toMatch(new RegExp(`${t.key}.*app\\.tenant_id`, "s"));
      if (p.check !== null) expect(p.check).toMatch(new RegExp(`${t.key}.*app\\.tenant_id`, "s"));
    }

    const [priv] = await raw<{ select: boolean }>("SELECT has_table_privilege(?, ?, 'SELECT') AS select", [appRole, t.table]);
    expect(priv?.select, `${appRole} may read ${t.table} (through RLS)`).toBe(true);
  }

  const roles = await raw<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
    "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname IN (?, ?) ORDER BY rolname",
    [appRole, platformRole],
  );
  expect(roles).toEqual(
    [
      { rolname: appRole, rolsuper: false, rolbypassrls: false },
      { rolname: platformRole, rolsuper: false, rolbypassrls: true },
    ].sort((a, b) => a.rolname.localeCompare(b.rolname)),
  );
  for (const table of knexTables) {
    const [priv] = await raw<{ any: boolean }>(
      "SELECT has_table_privilege(?, ?, 'SELECT,INSERT,UPDATE,DELETE') AS any",
      [appRole, table],
    );
    expect(priv?.any, `${appRole} has no business with ${table}`).toBe(false);
  }
}

describe("migration list", () => {
  it("names are timestamped snake_case", () => {
    for (const name of names) expect(name).toMatch(/^\d{14}_[a-z0-9_]+$/);
  });

  it("names are unique", () => {
    expect(new Set(names).size).toBe(names.length);
  });

  it("is sorted by name, so the order applied is the order listed", () => {
    expect(names).toEqual([...names].sort());
  });
});

describe("migrations up, down and up again", () => {
  beforeAll(async () => {
    testDb = await openTestDatabase({ migrate: false });
  });

  afterAll(async () => {
    await testDb?.close();
  });

  it("start from an empty schema", async () => {
    expect(await schemaTables()).toEqual([]);
    expect(await migrationStatus(testDb.db)).toEqual({ applied: [], pending: names });
  });

  it("all apply, in order", async () => {
    expect(await migrateLatest(testDb.db)).toEqual(names);
    expect(await migrationStatus(testDb.db)).toEqual({ applied: names, pending: [] });
  });

  it("leave every tenant-scoped table under forced row-level security, and the app role without bypass", async () => {
    await expectIsolationInvariants();
  });

  it("are idempotent: a second run applies nothing", async () => {
    expect(await migrateLatest(testDb.db)).toEqual([]);
  });

  it("all roll back, newest first, leaving only knex's bookkeeping", async () => {
    expect(await migrateRollbackAll(testDb.db)).toEqual([...names].reverse());
    expect(await migrationStatus(testDb.db)).toEqual({ applied: [], pending: names });
    expect(await schemaTables()).toEqual(knexTables);
    expect(await schemaFunctions(), "functions created by migrations are dropped too").toEqual([]);
  });

  // Roles are cluster-wide: other databases of the server may use them, so rolling back keeps them (and only
  // revokes this database's grants); what must go is every privilege this database gave them.
  it("keep the cluster-wide roles but revoke this database's grants", async () => {
    const { appRole, platformRole } = testDb.db.roles;
    expect(await raw("SELECT rolname FROM pg_roles WHERE rolname IN (?, ?) ORDER BY rolname", [appRole, platformRole])).toHaveLength(2);
    const grants = await raw(
      "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = 'public' AND grantee IN (?, ?)",
      [appRole, platformRole],
    );
    expect(grants).toEqual([]);
  });

  it("all apply again, with the same invariants", async () => {
    expect(await migrateLatest(testDb.db)).toEqual(names);
    expect((await schemaTables()).length).toBeGreaterThan(knexTables.length);
    await expectIsolationInvariants();
  });
});
