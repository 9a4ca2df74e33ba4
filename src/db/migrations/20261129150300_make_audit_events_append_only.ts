import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * The audit log is append-only for everyone the application runs as: neither role holds UPDATE, DELETE or
 * TRUNCATE, and a trigger refuses them for any role (so a later GRANT cannot quietly re-open the table).
 * Only a superuser can get past both (ALTER TABLE … DISABLE TRIGGER); the hash chain and its MAC are what
 * then reveal the change (VerifyAuditLog).
 */
export const makeAuditEventsAppendOnly: Migration = {
  name: "20261129150300_make_audit_events_append_only",
  async up(knex, { appRole, platformRole }) {
    await knex.raw(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM ${quoteIdent(appRole)}, ${quoteIdent(platformRole)}`);
    await knex.raw(`CREATE FUNCTION tenantmesh_audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = '42501';
      END $$`);
    await knex.raw(`CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION tenantmesh_audit_events_immutable()`);
    await knex.raw(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION tenantmesh_audit_events_immutable()`);
  },
  async down(knex, { appRole, platformRole }) {
    await knex.raw("DROP TRIGGER audit_events_no_truncate ON audit_events");
    await knex.raw("DROP TRIGGER audit_events_immutable ON audit_events");
    await knex.raw("DROP FUNCTION tenantmesh_audit_events_immutable()");
    await knex.raw(`GRANT UPDATE, DELETE ON audit_events TO ${quoteIdent(appRole)}, ${quoteIdent(platformRole)}`);
  },
};
