import { quoteIdent } from "../roles.js";
import type { Migration } from "./migration.js";

/**
 * Issued invoices never change: neither database role may UPDATE or DELETE an invoice or its lines, so a
 * correction can only be a new line on a later invoice. (A tenant's hard deletion still cascades: referential
 * actions run as the tables' owner.)
 */
export const makeInvoicesAppendOnly: Migration = {
  name: "20261129140600_make_invoices_append_only",
  async up(knex, roles) {
    const both = `${quoteIdent(roles.appRole)}, ${quoteIdent(roles.platformRole)}`;
    await knex.raw(`REVOKE UPDATE, DELETE ON invoices FROM ${both}`);
    await knex.raw(`REVOKE UPDATE, DELETE ON invoice_lines FROM ${both}`);
  },
  async down(knex, roles) {
    const both = `${quoteIdent(roles.appRole)}, ${quoteIdent(roles.platformRole)}`;
    await knex.raw(`GRANT UPDATE, DELETE ON invoices TO ${both}`);
    await knex.raw(`GRANT UPDATE, DELETE ON invoice_lines TO ${both}`);
  },
};
