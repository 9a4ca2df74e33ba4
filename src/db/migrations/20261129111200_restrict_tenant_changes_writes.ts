import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * The change log is append-only for the application role: the triggers (running as the caller) need INSERT,
 * but nobody but the platform's compaction may rewrite or erase what WatchTenants has to deliver. A forged
 * insert can only cause a spurious notification: a change carries the tenant's current configuration, read
 * by the feed, never anything from the row itself.
 */
export const restrictTenantChangesWrites: Migration = {
  name: "20261129111200_restrict_tenant_changes_writes",
  async up(knex, roles) {
    await knex.raw(`REVOKE UPDATE, DELETE ON tenant_changes FROM ${quoteIdent(roles.appRole)}`);
  },
  async down(knex, roles) {
    await knex.raw(`GRANT UPDATE, DELETE ON tenant_changes TO ${quoteIdent(roles.appRole)}`);
  },
};
