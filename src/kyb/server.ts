import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock, type Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import { startGrpcServer, type GrpcServerHandle } from "../grpc/index.js";
import type { Logger } from "../log/index.js";
import type { FieldCipher } from "../security/fields.js";
import { Capacity } from "./capacity.js";
import { limitTenantConnections } from "./connection-limit.js";
import { echoServiceImplementation, EchoServiceService } from "./echo.js";
import { businessServiceImplementation, BusinessServiceService } from "./grpc.js";
import { createKybHttpServer } from "./http.js";
import { createIdentityGate } from "./identity.js";
import type { EchoStats, KybRuntime } from "./runtime.js";
import { createKybService } from "./service.js";

export interface KybServiceOptions {
  /** An open, migrated database; the KYB service never migrates (that is the control plane's job) */
  db: Database;
  /**
   * Seals registration numbers, tax identifiers and beneficial owners with each tenant's own key: the control
   * plane's keyring in one process (`fieldCipher(cp.security.keyring)`), else a read-only one over the data
   * dir's keystore (`tenantmesh kyb`)
   */
  fields: FieldCipher;
  /** The secret the proxy signs forwarded identities with (`loadSecrets(config).identitySecret`) */
  identitySecret: Buffer;
  host: string;
  /** 0 picks a free port */
  httpPort: number;
  /** 0 picks a free port */
  grpcPort: number;
  /** Business requests (HTTP and gRPC together) that run at once; the rest wait in arrival order */
  capacity: number;
  /** Artificial work added inside the capacity slot to every business request, for benchmarks; 0 for none */
  serviceTimeMs: number;
  logger: Logger;
  /** Time for identity freshness and company age; the system clock by default */
  clock?: Clock;
}

/** A running KYB backend */
export interface KybServiceHandle {
  readonly httpPort: number;
  readonly grpcPort: number;
  /** Live counters, the same the HTTP `/health` reports */
  stats(): { capacity: number; inFlight: number; queued: number; echo: Readonly<EchoStats> };
  /** Stops both servers: no new requests, running ones finish (forced after a grace period) */
  close(): Promise<void>;
}

export const KYB_PROTO_FILES = ["tenantmesh/kyb/v1/business.proto", "tenantmesh/kyb/v1/echo.proto"];

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Idle keep-alive connections would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}

/**
 * Starts one KYB backend: the HTTP JSON API and the gRPC BusinessService (plus the diagnostics EchoService,
 * grpc.health.v1 and reflection) on their own ports, sharing one capacity. Several may run in one process
 * over one database, as the embedded `tenantmesh up` does with PGlite.
 */
export async function startKybService(options: KybServiceOptions): Promise<KybServiceHandle> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const capacity = new Capacity(options.capacity);
  const serviceTimeMs = Math.max(0, options.serviceTimeMs);
  const rt: KybRuntime = {
    // database_connections per tenant: a semaphore per tenant in front of the PostgreSQL pool. PGlite is one
    // connection that serialises every transaction already, so there is nothing to share out there.
    service: createKybService({ db: options.db.kind === "postgres" ? limitTenantConnections(options.db, { clock }) : options.db, clock, fields: options.fields }),
    // Refusals are expected noise from scanners and misconfigured clients: debug, never the caller's input.
    identity: createIdentityGate(options.identitySecret, clock, (reason) => logger.debug({ reason }, "forwarded identity refused")),
    capacity,
    clock,
    logger,
    echo: { inFlight: 0, cancelled: 0 },
    work: (fn, signal) => capacity.run(fn, { serviceTimeMs, signal }),
  };

  const http = createKybHttpServer(rt);
  const httpPort = await listen(http, options.host, options.httpPort);
  let grpc: GrpcServerHandle;
  try {
    grpc = await startGrpcServer({
      host: options.host,
      port: options.grpcPort,
      services: [
        { name: "tenantmesh.kyb.v1.BusinessService", definition: BusinessServiceService, implementation: businessServiceImplementation(rt) },
        { name: "tenantmesh.kyb.v1.EchoService", definition: EchoServiceService, implementation: echoServiceImplementation(rt) },
      ],
      protoFiles: KYB_PROTO_FILES,
    });
  } catch (err) {
    await closeHttp(http, 0);
    throw err;
  }
  grpc.setServing(true);

  let closing: Promise<void> | undefined;
  return {
    httpPort,
    grpcPort: grpc.port,
    stats: () => ({ capacity: capacity.limit, inFlight: capacity.inFlight, queued: capacity.queued, echo: { ...rt.echo } }),
    close() {
      closing ??= (async () => {
        // NOT_SERVING first, so health-checking proxies stop sending before the ports go away.
        grpc.setServing(false);
        await Promise.all([closeHttp(http, 5_000), grpc.close(5_000)]);
      })();
      return closing;
    },
  };
}
