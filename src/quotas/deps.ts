import type { Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import type { Logger } from "../log/index.js";
import type { UsageIngestor } from "../metering/index.js";

/** What the quota slice's handlers run with (built once by the slice factory) */
export interface QuotasDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** This process's one group-commit writer of usage batches */
  ingestor: UsageIngestor;
  /** Writes the configured pool capacities once (lazily: the slice starts before migrations have run) */
  ensurePools(): Promise<void>;
}
