import type { Migration } from "./migration.js";

/**
 * A foreign key is checked without row-level security, so `user_sessions.user_id REFERENCES users(id)` let
 * tenant A point a session at tenant B's user (and probe whether B's user ids exist). Referencing
 * (tenant_id, id) makes the reference stay inside the tenant.
 */
export const scopeSessionUserReference: Migration = {
  name: "20261129111100_scope_session_user_reference",
  async up(knex) {
    await knex.raw("ALTER TABLE users ADD CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id)");
    await knex.raw("ALTER TABLE user_sessions DROP CONSTRAINT user_sessions_user_id_fkey");
    await knex.raw(`ALTER TABLE user_sessions ADD CONSTRAINT user_sessions_tenant_user_fkey
      FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE`);
  },
  async down(knex) {
    await knex.raw("ALTER TABLE user_sessions DROP CONSTRAINT user_sessions_tenant_user_fkey");
    await knex.raw("ALTER TABLE user_sessions ADD CONSTRAINT user_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE");
    await knex.raw("ALTER TABLE users DROP CONSTRAINT users_tenant_id_id_key");
  },
};
