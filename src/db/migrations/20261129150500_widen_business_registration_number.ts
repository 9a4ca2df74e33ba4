import type { Migration } from "./migration.js";

/**
 * registration_number now holds a ciphertext (`tmenc:v<n>:…`, src/security), longer than the 100 characters
 * the plain value was limited to; the API still limits the plain value to 100. Rolling back truncates nothing
 * that fits and refuses rows that do not (a cut ciphertext would be garbage either way).
 */
export const widenBusinessRegistrationNumber: Migration = {
  name: "20261129150500_widen_business_registration_number",
  async up(knex) {
    await knex.raw("ALTER TABLE businesses ALTER COLUMN registration_number TYPE TEXT");
  },
  async down(knex) {
    await knex.raw("ALTER TABLE businesses ALTER COLUMN registration_number TYPE VARCHAR(100)");
  },
};
