import type { Migration } from "./migration.js";

export const createUpdatedAtFunction: Migration = {
  name: "20261129100100_create_updated_at_function",
  async up(knex) {
    await knex.raw(`CREATE FUNCTION tenantmesh_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.updated_at = now(); RETURN NEW; END $$`);
  },
  async down(knex) {
    await knex.raw("DROP FUNCTION tenantmesh_set_updated_at()");
  },
};
