import type { Knex } from "knex";
import { quoteIdent, type DbRoles } from "./roles.js";

/**
 * The policy proven in TOOLCHAIN.md: the tenant comes from the transaction-local setting `app.tenant_id`;
 * NULLIF + missing_ok make an unset or reset setting match no row (instead of erroring), so a connection with
 * no tenant sees nothing.
 */
export const currentTenantSql = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";

/**
 * Guards a tenant-scoped table with row-level security, ENABLEd and FORCEd (so the owner is guarded too), and
 * grants the application and platform roles their data privileges. `column` is the tenant key: `tenant_id`
 * for tenant-scoped tables, `id` for the tenants table itself.
 */
export async function enableTenantRls(knex: Knex, table: string, roles: DbRoles, column = "tenant_id"): Promise<void> {
  const t = quoteIdent(table);
  await knex.raw(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`);
  await knex.raw(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`);
  await knex.raw(
    `CREATE POLICY tenant_isolation ON ${t} USING (${quoteIdent(column)} = ${currentTenantSql}) WITH CHECK (${quoteIdent(column)} = ${currentTenantSql})`,
  );
  await grantData(knex, table, roles);
}

/** Grants both roles their data privileges on a table (platform tables get no policy: only asPlatform sees them) */
export async function grantData(knex: Knex, table: string, roles: DbRoles): Promise<void> {
  const t = quoteIdent(table);
  await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO ${quoteIdent(roles.appRole)}, ${quoteIdent(roles.platformRole)}`);
}

/** Keeps `updated_at` true on every UPDATE (the function comes from the first migrations) */
export async function addUpdatedAtTrigger(knex: Knex, table: string): Promise<void> {
  const t = quoteIdent(table);
  await knex.raw(`CREATE TRIGGER ${quoteIdent(`${table}_updated_at`)} BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION tenantmesh_set_updated_at()`);
}
