import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * One row per tenant keyring (src/security): the newest data-key version, the minimum version still allowed
 * to decrypt, and the crypto-shredding mark. The keys themselves are in tenant_data_keys, wrapped by KEKs that
 * live outside the database; a shredded_at restored from an old backup changes nothing, because the KEKs are gone.
 */
export const createTenantKeyrings: Migration = {
  name: "20261129150000_create_tenant_keyrings",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE tenant_keyrings (
      tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      latest_version INTEGER NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
      min_decryption_version INTEGER NOT NULL DEFAULT 1 CHECK (min_decryption_version >= 1),
      rotated_at TIMESTAMP WITH TIME ZONE,
      shredded_at TIMESTAMP WITH TIME ZONE,
      shredded_by VARCHAR(255),
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
    )`);
    await enableTenantRls(knex, "tenant_keyrings", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE tenant_keyrings");
  },
};
