import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * The application and platform roles (see ../roles.ts). Roles are cluster-wide in PostgreSQL: they are created
 * only when missing (two databases migrating at once may race on that, so a duplicate is not an error), and
 * rolling back only revokes this database's grants — dropping a role would pull it from under every other
 * database of the server that uses it.
 */
export const createRoles: Migration = {
  name: "20261129100000_create_roles",
  async up(knex, { appRole, platformRole }) {
    for (const [role, bypass] of [
      [appRole, "NOBYPASSRLS"],
      [platformRole, "BYPASSRLS"],
    ] as const) {
      await knex.raw(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
          CREATE ROLE ${quoteIdent(role)} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE ${bypass};
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END $$`);
    }
    await knex.raw(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(appRole)}, ${quoteIdent(platformRole)}`);
  },
  async down(knex, { appRole, platformRole }) {
    await knex.raw(`REVOKE USAGE ON SCHEMA public FROM ${quoteIdent(appRole)}, ${quoteIdent(platformRole)}`);
  },
};
