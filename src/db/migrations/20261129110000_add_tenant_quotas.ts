import type { Migration } from "./migration.js";

/**
 * Tenant quotas beyond the seed's table: the token bucket's burst, concurrent users (active sessions), and the
 * seed's PerformanceQuota. Plan defaults live in the plan catalogue; these defaults only keep old rows valid.
 */
export const addTenantQuotas: Migration = {
  name: "20261129110000_add_tenant_quotas",
  async up(knex) {
    await knex.raw(`ALTER TABLE tenants
      ADD COLUMN burst INTEGER NOT NULL DEFAULT 20 CHECK (burst >= 0),
      ADD COLUMN concurrent_users INTEGER NOT NULL DEFAULT 10 CHECK (concurrent_users >= 0),
      ADD COLUMN max_response_time_ms INTEGER NOT NULL DEFAULT 5000 CHECK (max_response_time_ms > 0),
      ADD COLUMN max_throughput_rps INTEGER NOT NULL DEFAULT 10 CHECK (max_throughput_rps > 0),
      ADD COLUMN max_concurrent_reqs INTEGER NOT NULL DEFAULT 10 CHECK (max_concurrent_reqs > 0),
      ADD COLUMN cpu_quota_millicores INTEGER NOT NULL DEFAULT 500 CHECK (cpu_quota_millicores >= 0),
      ADD COLUMN memory_quota_mb INTEGER NOT NULL DEFAULT 512 CHECK (memory_quota_mb >= 0),
      ADD COLUMN database_connections INTEGER NOT NULL DEFAULT 2 CHECK (database_connections >= 0),
      ADD COLUMN cache_entries INTEGER NOT NULL DEFAULT 1000 CHECK (cache_entries >= 0)`);
  },
  async down(knex) {
    await knex.raw(`ALTER TABLE tenants
      DROP COLUMN burst, DROP COLUMN concurrent_users, DROP COLUMN max_response_time_ms,
      DROP COLUMN max_throughput_rps, DROP COLUMN max_concurrent_reqs, DROP COLUMN cpu_quota_millicores,
      DROP COLUMN memory_quota_mb, DROP COLUMN database_connections, DROP COLUMN cache_entries`);
  },
};
