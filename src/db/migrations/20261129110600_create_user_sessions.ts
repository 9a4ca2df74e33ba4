import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** Server-side session records behind the signed session tokens, so a session can be revoked at once */
export const createUserSessions: Migration = {
  name: "20261129110600_create_user_sessions",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE user_sessions (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
      last_seen_at TIMESTAMP WITH TIME ZONE,
      revoked_at TIMESTAMP WITH TIME ZONE,
      client_address VARCHAR(64),
      user_agent VARCHAR(255)
    )`);
    await knex.raw("CREATE INDEX idx_user_sessions_user ON user_sessions (tenant_id, user_id)");
    await enableTenantRls(knex, "user_sessions", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE user_sessions");
  },
};
