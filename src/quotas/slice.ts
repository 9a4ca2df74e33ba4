import type { SliceFactory } from "../control-plane/deps.js";
import { ingestorFor } from "../metering/index.js";
import type { QuotasDeps } from "./deps.js";
import { quotaServiceImplementation, QuotaServiceService } from "./grpc.js";
import { configurePools, defaultPoolCapacities, type PoolName } from "./pools.js";

/** Tunables of the quota slice; the defaults are what `quotasSlice` uses */
export interface QuotasSliceOptions {
  /** Capacity of each shared pool (default: defaultPoolCapacities) */
  poolCapacities?: Partial<Record<PoolName, number>>;
  /** Usage events applied per transaction at most (group commit); default 50,000 */
  maxEventsPerFlush?: number;
}

/**
 * Builds the quota slice: tenantmesh.v1.QuotaService with the usage ingestor behind RecordUsage and the shared
 * resource pools. Pool capacities are configuration: written on first use, when migrations have surely run.
 */
export function createQuotasSlice(options: QuotasSliceOptions = {}): SliceFactory {
  return ({ db, kit, clock, logger }) => {
    const log = logger.child({ slice: "quotas" });
    const capacities = { ...defaultPoolCapacities, ...options.poolCapacities };
    let configured: Promise<void> | undefined;
    const ensurePools = (): Promise<void> => {
      configured ??= db
        .asPlatform((trx) => configurePools(trx, capacities))
        .then((clamped) => {
          if (clamped.length > 0) log.warn({ pools: clamped }, "pool capacity below what is allocated now: kept at the allocation");
        })
        .catch((err: unknown) => {
          configured = undefined;
          throw err;
        });
      return configured;
    };
    const ingestor = ingestorFor(db, log, options.maxEventsPerFlush ? { maxEventsPerFlush: options.maxEventsPerFlush } : {});
    const deps: QuotasDeps = { db, clock, logger: log, ingestor, ensurePools };
    // Batches journaled but not rolled up by a process that then died (an earlier run of this one, or another
    // replica): adopted soon after start, and then every minute.
    const recover = (): void => {
      ingestor.recoverOrphans().catch((err: unknown) => log.debug({ err: (err as Error).message }, "usage recovery skipped"));
    };
    const firstRecovery = setTimeout(recover, 5_000);
    firstRecovery.unref();
    const recovery = setInterval(recover, 60_000);
    recovery.unref();
    return {
      services: [{ name: "tenantmesh.v1.QuotaService", definition: QuotaServiceService, implementation: quotaServiceImplementation(kit, deps) }],
      protoFiles: ["tenantmesh/v1/quota.proto"],
      // Acknowledged usage goes into the rollups before the process ends.
      async close() {
        clearTimeout(firstRecovery);
        clearInterval(recovery);
        await ingestor.close().catch((err: unknown) => log.error({ err: (err as Error).message }, "usage roll-up at shutdown failed; the batches stay journaled"));
      },
    };
  };
}

/** The quota slice with default settings, as listed in control-plane/slices.ts */
export const quotasSlice: SliceFactory = createQuotasSlice();
