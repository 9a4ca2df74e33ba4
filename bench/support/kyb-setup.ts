import { randomBytes } from "node:crypto";
import pg from "pg";
import { defaultRoles, migrateLatest, openDatabase } from "../../src/db/index.js";
import { insertKybTenant } from "../../src/kyb/testing.js";

/** The PostgreSQL server the KYB variant uses: DATABASE_URL, else the local server */
export const postgresUrl = (): string => process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** True when PostgreSQL answers at `url` */
export async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface BenchDatabase {
  readonly url: string;
  /** The tenant the benchmark reads as */
  readonly tenantId: string;
  drop(): Promise<void>;
}

/** A fresh, migrated scratch database on the server of `base`, with one active KYB tenant */
export async function createBenchDatabase(base: string): Promise<BenchDatabase> {
  const name = `tm_bench_${randomBytes(5).toString("hex")}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = openDatabase({ kind: "postgres", url, poolMax: 2, connectTimeoutMs: 3_000, ...defaultRoles });
  try {
    await migrateLatest(db);
    const tenantId = await insertKybTenant(db, { modules: ["classification", "risk_assessment"] });
    return { url, tenantId, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  } finally {
    await db.close();
  }
}
