import type { Command } from "commander";
import { z } from "zod";
import { loadConfig, loadSecrets } from "../../config/index.js";
import { openDatabase, type Database } from "../../db/index.js";
import { TenantMeshError } from "../../errors/index.js";
import { startKybService, type KybServiceHandle } from "../../kyb/index.js";
import { createLogger, type Logger } from "../../log/index.js";
import { onShutdown } from "../shutdown.js";
import { startTracing, tracingConfigFromEnv } from "../../telemetry/index.js";
import { systemClock } from "../../auth/clock.js";
import { createSecurityRuntime, fieldCipher } from "../../security/index.js";

const whole = (min: number, max: number) =>
  z.string().regex(/^\d{1,9}$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const optionsSchema = z.object({
  port: whole(0, 65_535),
  grpcPort: whole(0, 65_535).optional(),
  capacity: whole(1, 100_000),
  serviceTimeMs: whole(0, 600_000),
  host: z.string().min(1),
});

type RawOptions = z.input<typeof optionsSchema>;

/** The gRPC port when --grpc-port is not given: beside the HTTP port, far enough not to meet a sibling's */
const defaultGrpcPort = (httpPort: number): number => (httpPort === 0 ? 0 : httpPort + 1000);

function parseOptions(raw: RawOptions): z.output<typeof optionsSchema> {
  const result = optionsSchema.safeParse(raw);
  if (result.success) return result.data;
  const flag = (key: PropertyKey | undefined) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  throw new TenantMeshError("TM_ERR_INVALID_CONFIG", result.error.issues.map((i) => `${flag(i.path[0])}: ${i.message}`).join("; "));
}

const NO_TENANT = "00000000-0000-0000-0000-000000000000";

/**
 * Waits until the schema the KYB service needs is there, probing it exactly as requests will use it (the
 * application role, row-level security, the columns read). Migrating is the control plane's job; a KYB process
 * started first simply waits for it.
 */
async function waitForSchema(db: Database, logger: Logger, stopped: () => boolean): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await db.withTenant(NO_TENANT, async (trx) => {
        await trx("tenants").select("status", "enabled_modules", "max_businesses").limit(0);
        await trx("businesses").select("id", "details", "deleted_at").limit(0);
      });
      if (attempt > 1) logger.info("database schema is ready");
      return;
    } catch (err) {
      if (attempt === 1 || attempt % 30 === 0) {
        logger.warn({ err: (err as Error).message }, "database schema not ready; waiting for the control plane (or `tenantmesh migrate`) to migrate it");
      }
      await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * attempt)));
    }
  }
}

/** `tenantmesh kyb --port N`: one KYB backend (HTTP JSON + gRPC) on the configured database */
export function registerKybCommand(program: Command): void {
  program
    .command("kyb")
    .description("serve the KYB business service (HTTP JSON and gRPC) that the proxy fronts")
    .requiredOption("--port <port>", "HTTP port")
    .option("--grpc-port <port>", "gRPC port (default: HTTP port + 1000)")
    .option("--capacity <n>", "business requests served at once; the rest queue in order", "8")
    .option("--service-time-ms <ms>", "artificial work added to every business request, for benchmarks", "0")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .action(async (raw: RawOptions) => {
      const opts = parseOptions(raw);
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: "kyb" });
      const tracing = startTracing(tracingConfigFromEnv(process.env, "tenantmesh-kyb"));
      if (config.database.kind === "pglite") {
        // PGlite is one in-process session: two processes on one data dir corrupt each other's queries.
        logger.warn({ dataDir: config.database.dataDir }, "embedded PGlite: no other tenantmesh process may use this data dir (use DATABASE_URL, or `tenantmesh up`)");
      }
      const secrets = loadSecrets(config);
      const db = openDatabase(config.database);
      let stopped = false;
      let kyb: KybServiceHandle | undefined;
      onShutdown(logger, async () => {
        stopped = true;
        await kyb?.close();
        await db.close();
        await tracing?.shutdown();
      });

      await waitForSchema(db, logger, () => stopped);
      if (stopped) return;
      kyb = await startKybService({
        db,
        identitySecret: Buffer.from(secrets.identitySecret),
        host: opts.host,
        httpPort: opts.port,
        grpcPort: opts.grpcPort ?? defaultGrpcPort(opts.port),
        capacity: opts.capacity,
        serviceTimeMs: opts.serviceTimeMs,
        logger,
        // The control plane's keystore in the same data dir, read only: this process uses tenants' keys, never makes them
        fields: fieldCipher(createSecurityRuntime({ db, clock: systemClock, dataDir: config.dataDir, secrets, readOnly: true }).keyring),
      });
      logger.info(
        { host: opts.host, http_port: kyb.httpPort, grpc_port: kyb.grpcPort, capacity: opts.capacity, service_time_ms: opts.serviceTimeMs, database: config.database.kind },
        "kyb service listening",
      );
    });
}
