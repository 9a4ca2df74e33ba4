import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/**
 * The tamper-evident audit log (src/audit). Deliberately NO foreign key to tenants: the log must outlive a
 * purged or deleted tenant (a cascade would erase the deletion receipt with the tenant). Row-level security
 * still isolates tenants. Each row carries the previous row's hash (a chain per tenant, seq 1, 2, 3, …) and a
 * MAC under a key held outside the database; the primary key (tenant_id, seq) makes a forked chain impossible
 * even if two writers skipped the append lock. source_event_id marks rows relayed from tenant_events, once each.
 */
export const createAuditEvents: Migration = {
  name: "20261129150200_create_audit_events",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE audit_events (
      tenant_id UUID NOT NULL,
      seq BIGINT NOT NULL CHECK (seq >= 1),
      id UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE,
      occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
      actor VARCHAR(255) NOT NULL,
      action VARCHAR(100) NOT NULL,
      outcome VARCHAR(20) NOT NULL CHECK (outcome IN ('success', 'failure')),
      target VARCHAR(255) NOT NULL DEFAULT '',
      request_id VARCHAR(255) NOT NULL DEFAULT '',
      detail JSONB NOT NULL DEFAULT '{}',
      source_event_id UUID UNIQUE,
      prev_hash CHAR(64) NOT NULL,
      hash CHAR(64) NOT NULL,
      mac CHAR(64) NOT NULL,
      recorded_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
      PRIMARY KEY (tenant_id, seq)
    )`);
    await knex.raw("CREATE INDEX idx_audit_events_tenant_action ON audit_events (tenant_id, action, seq)");
    await enableTenantRls(knex, "audit_events", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE audit_events");
  },
};
