import { systemClock, type Clock } from "../auth/clock.js";
import type { Config } from "../config/index.js";
import { DatabaseHealth, migrateLatest, openDatabase, type Database } from "../db/index.js";
import { createAuthenticator, RpcKit, startGrpcServer, type Verifiers } from "../grpc/index.js";
import type { Logger } from "../log/index.js";
import type { ControlPlaneDeps, Slice } from "./deps.js";
import { loadSecrets, type Secrets } from "../config/secrets.js";
import { serviceTokenVerifier } from "./service-tokens.js";
import { sliceFactories } from "./slices.js";
import { createSecurityRuntime, type SecurityRuntime } from "../security/runtime.js";

export interface ControlPlane {
  readonly port: number;
  readonly db: Database;
  readonly secrets: Secrets;
  readonly dbHealth: DatabaseHealth;
  /** This process's keystore, keyring and audit log (the embedded KYB backends encrypt through it) */
  readonly security: SecurityRuntime;
  /** Resolves once migrations have been applied (they are retried while the database is down) */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Use an already opened database (tests, the embedded `up` process); else one is opened from config */
  db?: Database;
  clock?: Clock;
}

/**
 * Starts the control plane: opens the database, applies migrations (retrying while the database is unreachable,
 * serving NOT_SERVING meanwhile), and serves every slice's services plus health and reflection.
 */
export async function startControlPlane(config: Config, options: StartOptions): Promise<ControlPlane> {
  const { logger } = options;
  const db = options.db ?? openDatabase(config.database);
  const ownsDb = options.db === undefined;
  const secrets = loadSecrets(config);
  const dbHealth = new DatabaseHealth(db, config.dbHealthIntervalMs, logger);

  const clock = options.clock ?? systemClock;
  const verifiers: Verifiers = { service: serviceTokenVerifier(secrets, clock) };
  const authenticator = createAuthenticator({ operatorToken: secrets.adminToken, verifiers });
  let migrated = false;
  let closed = false;
  // One keystore, keyring and audit log per process: every slice encrypts and audits through the same ones.
  const security = createSecurityRuntime({ db, clock, dataDir: config.dataDir, secrets });
  const kit = new RpcKit({ db, authenticator, logger, available: () => migrated && dbHealth.state !== "down", audit: security.audit });
  const deps: ControlPlaneDeps = { config, db, kit, secrets, clock, logger, security };
  const slices: Slice[] = sliceFactories.map((make) => make(deps));
  for (const slice of slices) Object.assign(verifiers, slice.verifiers ?? {});

  const grpc = await startGrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    services: slices.flatMap((s) => s.services),
    protoFiles: [...new Set(slices.flatMap((s) => s.protoFiles))],
  });

  const ready = (async () => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        const applied = await migrateLatest(db);
        if (applied.length > 0) logger.info({ applied }, "migrations applied");
        migrated = true;
        return;
      } catch (err) {
        if (attempt === 1) logger.warn({ err: (err as Error).message }, "cannot migrate yet; retrying until the database answers");
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * attempt)));
      }
    }
  })();

  const applyHealth = (): void => grpc.setServing(migrated && dbHealth.state === "up");
  dbHealth.on("change", applyHealth);
  void ready.then(async () => {
    await dbHealth.probe();
    applyHealth();
  });
  dbHealth.start();

  return {
    port: grpc.port,
    db,
    secrets,
    dbHealth,
    security,
    ready,
    async close() {
      closed = true;
      dbHealth.stop();
      // Slices first: they end their open streams (WatchTenants) cleanly, so the server need not force them.
      for (const slice of slices) await slice.close?.();
      await grpc.close();
      if (ownsDb) await db.close();
    },
  };
}
