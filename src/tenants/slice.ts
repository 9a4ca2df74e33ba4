import type { SliceFactory } from "../control-plane/deps.js";
import { provisioningConfig, type ProvisioningConfig } from "../plans/index.js";
import { apiKeyVerifier } from "./api-keys.js";
import type { TenantsDeps } from "./deps.js";
import { ChangeFeed } from "./feed/change-feed.js";
import { compactChanges } from "./feed/config.js";
import { tenantServiceImplementation, TenantServiceService } from "./grpc.js";
import type { ProvisioningStep } from "./provisioning/step.js";
import { composeProvisioningSteps } from "./provisioning/steps.js";
import { encryptionKeysStep } from "../security/provisioning-step.js";

/** Tunables of the tenants slice; the defaults are what `tenantsSlice` uses */
export interface TenantsSliceOptions {
  /** Steps later features add to provisioning; they run before the final `activate` */
  extraSteps?: readonly ProvisioningStep[];
  /** Overrides of the seed's ProvisioningConfig (default plan, timeout, validation rules) */
  provisioning?: Parameters<typeof provisioningConfig>[0];
  /** Change-log polling interval while anyone watches; default 50 ms */
  pollIntervalMs?: number;
  /** Changes a WatchTenants stream may fall behind by before it is ended with UNAVAILABLE; default 10,000 */
  maxWatchBacklog?: number;
  /** How long change-log rows are kept for resuming streams; default 7 days */
  changeRetentionMs?: number;
  /** How often old change-log rows are deleted; default 10 min */
  compactionIntervalMs?: number;
}

export const DEFAULT_CHANGE_RETENTION_MS = 7 * 24 * 60 * 60_000;

/**
 * Builds the tenants slice: tenantmesh.v1.TenantService, the `tm_…` API key verifier, the change feed behind
 * WatchTenants, and the change-log compaction job.
 */
export function createTenantsSlice(options: TenantsSliceOptions = {}): SliceFactory {
  return ({ db, kit, secrets, clock, logger, security }) => {
    const log = logger.child({ slice: "tenants" });
    const provisioning: ProvisioningConfig = provisioningConfig(options.provisioning);
    const feed = new ChangeFeed({
      db,
      clock,
      log,
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      ...(options.maxWatchBacklog === undefined ? {} : { maxBacklog: options.maxWatchBacklog }),
    });
    const apiKeyPepper = Buffer.from(secrets.apiKeyPepper);
    const deps: TenantsDeps = { db, clock, apiKeyPepper, feed, steps: composeProvisioningSteps([...(security ? [encryptionKeysStep(security)] : []), ...(options.extraSteps ?? [])]), provisioning, logger: log };

    // Every replica compacts; the DELETE is idempotent, so they need not agree on who does it.
    const retention = options.changeRetentionMs ?? DEFAULT_CHANGE_RETENTION_MS;
    const compaction = setInterval(() => {
      db.asPlatform((trx) => compactChanges(trx, retention, new Date(clock.now()))).then(
        (removed) => void (removed > 0 && log.info({ removed }, "tenant change log compacted")),
        (err: unknown) => log.warn({ err: (err as Error).message }, "tenant change log compaction failed"),
      );
    }, options.compactionIntervalMs ?? 10 * 60_000);
    compaction.unref();

    return {
      services: [{ name: "tenantmesh.v1.TenantService", definition: TenantServiceService, implementation: tenantServiceImplementation(kit, deps) }],
      protoFiles: ["tenantmesh/v1/tenant.proto"],
      verifiers: { apiKey: apiKeyVerifier({ db, pepper: apiKeyPepper, clock, log }) },
      async close() {
        clearInterval(compaction);
        feed.close();
      },
    };
  };
}

/** The tenants slice with default settings, as listed in control-plane/slices.ts */
export const tenantsSlice: SliceFactory = createTenantsSlice();
