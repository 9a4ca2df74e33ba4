import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * The application and platform roles (see ../roles.ts). Roles are cluster-wide in PostgreSQL, so they are
 * created only when missing and dropped only when no other database still uses them.
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
      END $$`);
    }
    await knex.raw(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(appRole)}, ${quoteIdent(platformRole)}`);
  },
  async down(knex, { appRole, platformRole }) {
    await knex.raw(`REVOKE USAGE ON SCHEMA public FROM ${quoteIdent(appRole)}, ${quoteIdent(platformRole)}`);
    for (const role of [appRole, platformRole]) {
      await knex.raw(`DO $$ BEGIN
        DROP ROLE IF EXISTS ${quoteIdent(role)};
      EXCEPTION WHEN dependent_objects_still_exist THEN
        RAISE NOTICE 'role % is still used by another database; kept', '${role}';
      END $$`);
    }
  },
};
