import type { Migration } from "./migration.js";

/** The last TOTP time step accepted for a user: a code is never accepted twice (replay protection) */
export const addUserMfaLastStep: Migration = {
  name: "20261129110700_add_user_mfa_last_step",
  async up(knex) {
    await knex.raw("ALTER TABLE users ADD COLUMN mfa_last_step BIGINT");
  },
  async down(knex) {
    await knex.raw("ALTER TABLE users DROP COLUMN mfa_last_step");
  },
};
