import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * Shared resource pools (database connections, cache entries, compute slots). `allocated` is kept beside the
 * capacity and guarded by a CHECK, so even a buggy caller cannot oversubscribe a pool: the database refuses it.
 * The three pools start with default capacities; configured capacities replace them when the quota slice first
 * needs them. A platform table.
 */
export const createResourcePools: Migration = {
  name: "20261129140100_create_resource_pools",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE resource_pools (
      name VARCHAR(50) PRIMARY KEY,
      unit VARCHAR(20) NOT NULL,
      capacity BIGINT NOT NULL CHECK (capacity >= 0),
      allocated BIGINT NOT NULL DEFAULT 0 CHECK (allocated >= 0 AND allocated <= capacity),
      updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await knex.raw(`INSERT INTO resource_pools (name, unit, capacity) VALUES
      ('database', 'connections', 1000), ('cache', 'entries', 10000000), ('compute_slots', 'millicores', 256000)`);
    await knex.raw(`GRANT SELECT, INSERT, UPDATE ON resource_pools TO ${quoteIdent(roles.platformRole)}`);
  },
  async down(knex) {
    await knex.raw("DROP TABLE resource_pools");
  },
};
