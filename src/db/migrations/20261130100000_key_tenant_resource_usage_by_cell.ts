import type { Migration } from "./migration.js";

/**
 * A rollup row is identified by its cell — tenant, resource type, granularity, period — and nothing refers to it
 * by any other name, so the cell becomes the primary key and the seed's surrogate `id` goes. Every usage
 * roll-up inserts or updates tens of thousands of these rows; the second index (and a random UUID per row) cost
 * about a fifth of each upsert on the embedded database.
 */
export const keyTenantResourceUsageByCell: Migration = {
  name: "20261130100000_key_tenant_resource_usage_by_cell",
  async up(knex) {
    await knex.raw(`DO $$
      DECLARE unique_key text;
      BEGIN
        SELECT conname INTO unique_key FROM pg_constraint WHERE conrelid = 'tenant_resource_usage'::regclass AND contype = 'u';
        EXECUTE format('ALTER TABLE tenant_resource_usage DROP CONSTRAINT %I', unique_key);
      END $$`);
    await knex.raw("ALTER TABLE tenant_resource_usage DROP CONSTRAINT tenant_resource_usage_pkey");
    await knex.raw("ALTER TABLE tenant_resource_usage DROP COLUMN id");
    await knex.raw("ALTER TABLE tenant_resource_usage ADD CONSTRAINT tenant_resource_usage_pkey PRIMARY KEY (tenant_id, resource_type, granularity, usage_period)");
  },
  async down(knex) {
    await knex.raw("ALTER TABLE tenant_resource_usage DROP CONSTRAINT tenant_resource_usage_pkey");
    await knex.raw("ALTER TABLE tenant_resource_usage ADD COLUMN id UUID NOT NULL DEFAULT gen_random_uuid()");
    await knex.raw("ALTER TABLE tenant_resource_usage ADD PRIMARY KEY (id)");
    await knex.raw("ALTER TABLE tenant_resource_usage ADD UNIQUE (tenant_id, resource_type, granularity, usage_period)");
  },
};
