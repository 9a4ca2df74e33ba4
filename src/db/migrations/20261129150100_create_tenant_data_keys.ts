import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * A tenant's versioned AES-256 data keys, each wrapped (AES-256-GCM) by one of the tenant's key-encryption keys
 * named by kek_id. The wrap binds tenant and version as associated data, so a row copied to another tenant or
 * version does not unwrap. Without the KEK (outside the database) a row is useless: a dump holds no usable key.
 */
export const createTenantDataKeys: Migration = {
  name: "20261129150100_create_tenant_data_keys",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_data_keys (
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      version INTEGER NOT NULL CHECK (version >= 1),
      kek_id VARCHAR(100) NOT NULL,
      wrapped_key TEXT NOT NULL,
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      PRIMARY KEY (tenant_id, version)
    )`);
    await enableTenantRls(knex, "tenant_data_keys", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_data_keys");
  },
};
