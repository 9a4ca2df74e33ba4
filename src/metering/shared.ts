import type { Database } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { UsageIngestor, type UsageIngestorOptions } from "./ingest.js";

/**
 * One ingestor per database handle in this process: the quota slice writes through it, and every slice that
 * reads usage (quotas, billing) settles it first, so an acknowledged batch is visible to the next read. Keyed
 * by the handle (weakly) rather than created per slice, because group commit only works with one writer.
 */
const ingestors = new WeakMap<Database, UsageIngestor>();

export function ingestorFor(db: Database, logger: Logger, options: Omit<UsageIngestorOptions, "db" | "logger"> = {}): UsageIngestor {
  let ingestor = ingestors.get(db);
  if (ingestor === undefined) {
    ingestor = new UsageIngestor({ db, logger: logger.child({ component: "usage-ingestor" }), ...options });
    ingestors.set(db, ingestor);
  }
  return ingestor;
}
