export { openDatabase, isUuid, type Database, type DatabaseOptions, type SqlValue, type Tx } from "./database.js";
export { migrateLatest, migrateRollbackAll, migrationStatus, type MigrationStatus } from "./migrate.js";
export { migrations, type Migration } from "./migrations/index.js";
export { DatabaseHealth, type DatabaseHealthState } from "./health.js";
export { enableTenantRls, grantData, addUpdatedAtTrigger, currentTenantSql } from "./rls.js";
export { defaultRoles, type DbRoles } from "./roles.js";
