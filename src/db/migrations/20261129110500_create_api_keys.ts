import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * Tenant API keys `tm_<key_id>_<secret>`: only an HMAC-SHA-256 of the secret is stored (a fast keyed hash:
 * the proxy checks keys on its hot path), looked up by key_id, which is globally unique.
 */
export const createApiKeys: Migration = {
  name: "20261129110500_create_api_keys",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE api_keys (
      key_id VARCHAR(32) PRIMARY KEY,
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      name VARCHAR(100) NOT NULL,
      secret_hash CHAR(64) NOT NULL,
      role VARCHAR(50) NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'manager', 'user', 'viewer')),
      created_by VARCHAR(255),
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      last_used_at TIMESTAMP WITH TIME ZONE,
      expires_at TIMESTAMP WITH TIME ZONE,
      revoked_at TIMESTAMP WITH TIME ZONE
    )`);
    await knex.raw("CREATE INDEX idx_api_keys_tenant ON api_keys (tenant_id)");
    await enableTenantRls(knex, "api_keys", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE api_keys");
  },
};
