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
  /** Runs `fn` in a transaction as the platform role, which bypasses RLS: operators' and rollups' path only */
  asPlatform<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => uuidPattern.test(value);

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

  return {
    kind: options.kind,
    knex,
    roles,
    async withTenant(tenantId, fn) {
      if (!isUuid(tenantId)) {
        throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "tenant_id must be a UUID", {
          violations: [{ field: "tenant_id", description: "must be a UUID" }],
        });
      }
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
}
