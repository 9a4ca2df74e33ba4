import { PGlite } from "@electric-sql/pglite";
import knexFactory, { type Knex } from "knex";
import ClientPGLite from "knex-pglite";
import pg from "pg";
import { TenantMeshError } from "../errors/index.js";
import { quoteIdent, type DbRoles } from "./roles.js";

/** A transaction scoped to one tenant (or to the platform): the only handle data access ever gets */
export type Tx = Knex.Transaction;

export type DatabaseOptions =
  | ({ kind: "pglite"; dataDir: string | undefined } & DbRoles)
  | ({ kind: "postgres"; url: string; poolMax: number; connectTimeoutMs: number } & DbRoles);

/**
 * The database of tenantmesh: PGlite embedded in this process by default, PostgreSQL when configured, with the
 * same migrations and behaviour. All data access goes through `withTenant` (row-level security on) or
 * `asPlatform` (the explicit cross-tenant path); `knex` itself is for migrations and health checks.
 */
export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly knex: Knex;
  readonly roles: DbRoles;
  /** Runs `fn` in a transaction as the application role with `app.tenant_id` set: RLS shows only that tenant */
  withTenant<T>(tenantId: string, fn: (trx: Tx) => Promise<T>): Promise<T>;
  /**
   * One statement as the tenant (application role, `app.tenant_id` set: RLS applies), returning its
   * rows: the hot reads' path. On PostgreSQL the role, the tenant setting and the statement travel as one
   * simple-protocol query, which the server runs as one implicit transaction: one round trip instead of four
   * (BEGIN, preamble, statement, COMMIT). `sql` is a single statement whose every `?` is a placeholder; values
   * go in as escaped literals. On PGlite it is an ordinary `withTenant`.
   */
  queryAsTenant<R>(tenantId: string, sql: string, values: readonly SqlValue[]): Promise<R[]>;
  /** Runs `fn` in a transaction as the platform role, which bypasses RLS: operators' and rollups' path only */
  asPlatform<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A value `queryAsTenant` may put in a statement */
export type SqlValue = string | number | boolean | null;

/** The connection knex's pg client pools: what `queryAsTenant` talks to directly */
interface PgConnection {
  query(text: string): Promise<pg.QueryResult | pg.QueryResult[]>;
  escapeLiteral(value: string): string;
}

/** `sql` with each `?` replaced by the literal of the matching value */
function inlineValues(sql: string, values: readonly SqlValue[], escape: (value: string) => string): string {
  const parts = sql.split("?");
  let text = parts[0] as string;
  values.forEach((value, i) => {
    let literal: string;
    if (value === null) literal = "NULL";
    else if (typeof value === "boolean") literal = value ? "TRUE" : "FALSE";
    else if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new Error("queryAsTenant: numbers must be finite");
      literal = String(value);
    } else literal = escape(value);
    text += literal + (parts[i + 1] as string);
  });
  return text;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => uuidPattern.test(value);

function requireUuid(tenantId: string): void {
  if (!isUuid(tenantId)) {
    throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "tenant_id must be a UUID", {
      violations: [{ field: "tenant_id", description: "must be a UUID" }],
    });
  }
}

// pg returns BIGINT and NUMERIC as strings to be safe; our counters stay below 2^53, so numbers they are.
// PGlite already answers numbers; this makes both databases hand the same types to row mappers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

function createKnex(options: DatabaseOptions): Knex {
  if (options.kind === "pglite") {
    const pglite = options.dataDir === undefined ? new PGlite() : new PGlite(options.dataDir);
    return knexFactory({ client: ClientPGLite, connection: { pglite } as Knex.StaticConnectionConfig });
  }
  return knexFactory({
    client: "pg",
    connection: {
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: "tenantmesh",
      keepAlive: true,
    } as Knex.PgConnectionConfig,
    pool: { min: 0, max: options.poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: options.connectTimeoutMs + 2_000,
  });
}

/** Opens the configured database (no migrations: see `migrateLatest`) */
export function openDatabase(options: DatabaseOptions): Database {
  const knex = createKnex(options);
  const roles: DbRoles = { appRole: options.appRole, platformRole: options.platformRole };
  const setAppRole = `SET LOCAL ROLE ${quoteIdent(roles.appRole)}`;
  const setPlatformRole = `SET LOCAL ROLE ${quoteIdent(roles.platformRole)}`;

  const database: Database = {
    kind: options.kind,
    knex,
    roles,
    async withTenant(tenantId, fn) {
      requireUuid(tenantId);
      return knex.transaction(async (trx) => {
        if (options.kind === "postgres") {
          // One round trip: a simple-protocol query may hold several statements but no parameters, so the tenant
          // id goes in as a literal; it is a UUID (checked above), which cannot break out of the quotes.
          await trx.raw(`${setAppRole}; SELECT set_config('app.tenant_id', '${tenantId}', true)`);
        } else {
          await trx.raw(setAppRole);
          await trx.raw("SELECT set_config('app.tenant_id', ?, true)", [tenantId]);
        }
        return fn(trx);
      });
    },
    async queryAsTenant<R>(tenantId: string, sql: string, values: readonly SqlValue[]): Promise<R[]> {
      requireUuid(tenantId);
      const placeholders = sql.split("?").length - 1;
      if (placeholders !== values.length) throw new Error(`queryAsTenant: ${placeholders} placeholders for ${values.length} values`);
      if (options.kind !== "postgres") {
        return database.withTenant(tenantId, async (trx) => ((await trx.raw(sql, values as SqlValue[])) as { rows: R[] }).rows);
      }
      const client = knex.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<unknown> };
      const connection = await client.acquireConnection();
      try {
        // The tenant id is a UUID (checked above), which cannot break out of the quotes. A failing statement
        // rolls the implicit transaction back and leaves the connection idle, ready for the pool.
        const text = `${setAppRole}; SELECT set_config('app.tenant_id', '${tenantId}', true); ${inlineValues(sql, values, (v) => connection.escapeLiteral(v))}`;
        const results = await connection.query(text);
        return ((Array.isArray(results) ? results.at(-1) : results)?.rows ?? []) as R[];
      } finally {
        await client.releaseConnection(connection);
      }
    },
    async asPlatform(fn) {
      return knex.transaction(async (trx) => {
        await trx.raw(setPlatformRole);
        return fn(trx);
      });
    },
    async ping() {
      await knex.raw("SELECT 1");
    },
    async close() {
      await knex.destroy();
    },
  };
  return database;
}
