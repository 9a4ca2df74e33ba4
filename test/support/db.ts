import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrateLatest, openDatabase, defaultRoles, type Database } from "../../src/db/index.js";

export interface TestDatabase {
  db: Database;
  /** The URL of the private PostgreSQL database, when the tests run against PostgreSQL */
  url: string | undefined;
  close(): Promise<void>;
}

/** True when the suite runs against a real PostgreSQL (DATABASE_URL set), else on embedded PGlite */
export const onPostgres = (): boolean => Boolean(process.env.DATABASE_URL);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh, empty PostgreSQL database on the DATABASE_URL server and returns its URL and a dropper */
export async function createScratchPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error("createScratchPostgres needs DATABASE_URL");
  const name = `tm_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(base, name),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A database for one test file: a fresh PostgreSQL database when DATABASE_URL is set (dropped on close),
 * otherwise an in-memory PGlite. Migrated unless `migrate: false`.
 */
export async function openTestDatabase(options: { migrate?: boolean; poolMax?: number } = {}): Promise<TestDatabase> {
  let db: Database;
  let url: string | undefined;
  let drop = async (): Promise<void> => {};
  if (onPostgres()) {
    const scratch = await createScratchPostgres();
    url = scratch.url;
    drop = scratch.drop;
    db = openDatabase({ kind: "postgres", url, poolMax: options.poolMax ?? 5, connectTimeoutMs: 3_000, ...defaultRoles });
  } else {
    db = openDatabase({ kind: "pglite", dataDir: undefined, ...defaultRoles });
  }
  if (options.migrate !== false) await migrateLatest(db);
  return {
    db,
    url,
    async close() {
      await db.close();
      await drop();
    },
  };
}
