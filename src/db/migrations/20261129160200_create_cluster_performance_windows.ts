import { grantData } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * The capacity each proxy balanced over, and how much of it was held, per window: the cluster utilization the
 * isolation report's baseline is defined by. Platform data (no tenant), so no row-level security: only the
 * platform role reads it.
 */
export const createClusterPerformanceWindows: Migration = {
  name: "20261129160200_create_cluster_performance_windows",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE cluster_performance_windows (
      window_start TIMESTAMP WITH TIME ZONE NOT NULL,
      window_seconds INTEGER NOT NULL CHECK (window_seconds > 0),
      source VARCHAR(200) NOT NULL,
      capacity_slots BIGINT NOT NULL CHECK (capacity_slots >= 0),
      busy_ms DOUBLE PRECISION NOT NULL CHECK (busy_ms >= 0),
      created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      PRIMARY KEY (window_start, window_seconds, source)
    )`);
    await grantData(knex, "cluster_performance_windows", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE cluster_performance_windows");
  },
};
