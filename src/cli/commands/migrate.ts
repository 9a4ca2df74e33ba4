import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { migrateLatest, migrateRollbackAll, migrationStatus, openDatabase } from "../../db/index.js";

/** `tenantmesh migrate [--status | --rollback-all]` (npm run migrate) */
export function registerMigrateCommand(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (the control plane also does at start-up)")
    .option("--status", "list applied and pending migrations")
    .option("--rollback-all", "undo every applied migration (destroys all data)")
    .action(async (opts: { status?: boolean; rollbackAll?: boolean }) => {
      const config = loadConfig();
      const db = openDatabase(config.database);
      try {
        if (opts.status) {
          const { applied, pending } = await migrationStatus(db);
          for (const name of applied) process.stdout.write(`applied  ${name}\n`);
          for (const name of pending) process.stdout.write(`pending  ${name}\n`);
        } else if (opts.rollbackAll) {
          const undone = await migrateRollbackAll(db);
          process.stdout.write(`rolled back ${undone.length} migration(s)\n`);
        } else {
          const applied = await migrateLatest(db);
          process.stdout.write(applied.length ? `applied ${applied.length} migration(s):\n${applied.map((n) => `  ${n}\n`).join("")}` : "database is up to date\n");
        }
      } finally {
        await db.close();
      }
    });
}
