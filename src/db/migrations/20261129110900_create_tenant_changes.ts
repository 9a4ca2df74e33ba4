import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * The versioned change log behind WatchTenants. Triggers on tenants and api_keys append a row for every change,
 * whatever code path made it, so no change can be missed. Each append first takes one transaction-scoped
 * advisory lock: versions are then committed in the order they were assigned, and a reader that has seen
 * version N can never later find a committed N-1 (a plain sequence gives no such guarantee).
 */
export const createTenantChanges: Migration = {
  name: "20261129110900_create_tenant_changes",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_changes (
      version BIGSERIAL PRIMARY KEY,
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      source VARCHAR(50) NOT NULL,
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await enableTenantRls(knex, "tenant_changes", roles);
    await knex.raw(`GRANT USAGE ON SEQUENCE tenant_changes_version_seq TO "${roles.appRole}", "${roles.platformRole}"`);
    await knex.raw(`CREATE FUNCTION tenantmesh_record_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE tid uuid;
      BEGIN
        IF TG_TABLE_NAME = 'tenants' THEN tid := COALESCE(NEW.id, OLD.id);
        ELSE tid := COALESCE(NEW.tenant_id, OLD.tenant_id);
        END IF;
        PERFORM pg_advisory_xact_lock(7424656);
        INSERT INTO tenant_changes (tenant_id, source) VALUES (tid, TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    await knex.raw(`CREATE TRIGGER tenants_record_change AFTER INSERT OR UPDATE ON tenants
      FOR EACH ROW EXECUTE FUNCTION tenantmesh_record_tenant_change()`);
    await knex.raw(`CREATE TRIGGER api_keys_record_change AFTER INSERT OR UPDATE OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION tenantmesh_record_tenant_change()`);
  },
  async down(knex) {
    await knex.raw("DROP TRIGGER api_keys_record_change ON api_keys");
    await knex.raw("DROP TRIGGER tenants_record_change ON tenants");
    await knex.raw("DROP FUNCTION tenantmesh_record_tenant_change()");
    await knex.raw("DROP TABLE tenant_changes");
  },
};
