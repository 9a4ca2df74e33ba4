import type { Database } from "./database.js";
import { migrationSource } from "./migrations/index.js";

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/** Applies every pending migration; returns the names it applied */
export async function migrateLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.knex.migrate.latest({ migrationSource: migrationSource(db.roles) })) as [number, string[]];
  return applied;
}

/** Undoes every applied migration, newest first */
export async function migrateRollbackAll(db: Database): Promise<string[]> {
  const [, undone] = (await db.knex.migrate.rollback({ migrationSource: migrationSource(db.roles) }, true)) as [number, string[]];
  return undone;
}

export async function migrationStatus(db: Database): Promise<MigrationStatus> {
  const [completed, pending] = (await db.knex.migrate.list({ migrationSource: migrationSource(db.roles) })) as [
    Array<{ name: string }>,
    Array<{ name: string }>,
  ];
  return { applied: completed.map((m) => m.name), pending: pending.map((m) => m.name) };
}
