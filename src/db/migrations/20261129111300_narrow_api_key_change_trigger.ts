import type { Migration } from "./migration.js";

/**
 * `last_used_at` is bookkeeping, not configuration: updating it (once a minute per key in use) must not send a
 * change to every proxy. The trigger now fires on inserts, deletes and updates of the columns proxies read.
 */
export const narrowApiKeyChangeTrigger: Migration = {
  name: "20261129111300_narrow_api_key_change_trigger",
  async up(knex) {
    await knex.raw("DROP TRIGGER api_keys_record_change ON api_keys");
    await knex.raw(`CREATE TRIGGER api_keys_record_change
      AFTER INSERT OR DELETE OR UPDATE OF key_id, tenant_id, secret_hash, role, expires_at, revoked_at ON api_keys
      FOR EACH ROW EXECUTE FUNCTION tenantmesh_record_tenant_change()`);
  },
  async down(knex) {
    await knex.raw("DROP TRIGGER api_keys_record_change ON api_keys");
    await knex.raw(`CREATE TRIGGER api_keys_record_change AFTER INSERT OR UPDATE OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION tenantmesh_record_tenant_change()`);
  },
};
