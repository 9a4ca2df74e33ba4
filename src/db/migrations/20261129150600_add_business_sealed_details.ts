import type { Migration } from "./migration.js";

/**
 * The sensitive part of a business's details (tax number, beneficial owners), sealed with the tenant's data
 * key; `details` keeps the rest in the clear for queries. NULL: nothing sensitive was given.
 */
export const addBusinessSealedDetails: Migration = {
  name: "20261129150600_add_business_sealed_details",
  async up(knex) {
    await knex.raw("ALTER TABLE businesses ADD COLUMN sealed_details TEXT");
  },
  async down(knex) {
    await knex.raw("ALTER TABLE businesses DROP COLUMN sealed_details");
  },
};
