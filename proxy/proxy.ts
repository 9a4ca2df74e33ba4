import type { AddressInfo } from "node:net";
import { systemClock, type Clock } from "../src/auth/clock.js";
import { TenantMeshError } from "../src/errors/index.js";
import { silentLogger, type Logger } from "../src/log/index.js";
import type { SessionVerifier, TenantDirectory } from "./directory/types.js";
import { GrpcForwarder } from "./forward/grpc.js";
import { HttpForwarder } from "./forward/http.js";
import { WebSocketForwarder } from "./forward/websocket.js";
import { admit } from "./pipeline/admit.js";
import { FifoDispatchQueue, type DispatchQueue } from "./pipeline/dispatch-queue.js";
import { entryPoints } from "./pipeline/entry.js";
import { forward } from "./pipeline/forward.js";
import { identify } from "./pipeline/identify.js";
import { pick } from "./pipeline/pick.js";
import { record, type RequestHook, type RequestMetrics } from "./pipeline/record.js";
import { route } from "./pipeline/route.js";
import { compose, type NamedStage, type Stage } from "./pipeline/stage.js";
import { ConcurrencyThrottle, throttle, type InFlightObserver, type Throttle } from "./pipeline/throttle.js";
import { ProxyServer, type ServerLimits } from "./server.js";
import type { Cluster, RouteTable } from "./upstream/types.js";

/** Every bound the data path enforces, with defaults in `defaultProxyLimits` */
export interface ProxyLimits extends ServerLimits {
  /** Largest HTTP request body (413) */
  readonly maxBodyBytes: number;
  /** Largest single gRPC request message (RESOURCE_EXHAUSTED) */
  readonly maxGrpcMessageBytes: number;
  /** Upstream timeout for a tenant whose quota sets none */
  readonly defaultUpstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Keep-alive HTTP/1.1 connections per backend at most (also bounded by the backend's capacity) */
  readonly maxConnectionsPerBackend: number;
  /** Requests a full cluster may hold waiting for a slot, and for how long */
  readonly queueMaxLength: number;
  readonly queueMaxWaitMs: number;
  /** Request bytes of a gRPC call kept to replay it on another backend after a failed connect */
  readonly grpcReplayBytes: number;
  /** An upstream h2c session without traffic for this long is closed */
  readonly upstreamIdleTimeoutMs: number;
  /** How long to let requests in flight finish on close() */
  readonly shutdownGraceMs: number;
}

export const defaultProxyLimits: ProxyLimits = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxConcurrentStreams: 100,
  http2WindowBytes: 1024 * 1024,
  maxBodyBytes: 10 * 1024 * 1024,
  maxGrpcMessageBytes: 4 * 1024 * 1024,
  defaultUpstreamTimeoutMs: 30_000,
  connectTimeoutMs: 2_000,
  maxConnectionsPerBackend: 256,
  queueMaxLength: 1_000,
  queueMaxWaitMs: 1_000,
  grpcReplayBytes: 64 * 1024,
  upstreamIdleTimeoutMs: 60_000,
  shutdownGraceMs: 5_000,
});

export interface CreateProxyOptions {
  readonly directory: TenantDirectory;
  readonly sessionVerifier: SessionVerifier;
  /** The current route table; read per request, so a config reload just changes what this returns */
  readonly routes: () => RouteTable;
  /** ProxyMetrics, or anything with its recording methods */
  readonly metrics: RequestMetrics & InFlightObserver;
  /** Signs the identity forwarded to backends (src/identity) */
  readonly identitySecret: Buffer;
  readonly apiKeyPepper: Buffer;
  readonly limits?: Partial<ProxyLimits>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** The throttle stage's policy (default: per-tenant concurrency limit from `maxConcurrentRequests`) */
  readonly throttle?: Throttle;
  /** The dispatch queue of each cluster (default: bounded FIFO from the limits) */
  readonly createQueue?: (cluster: Cluster) => DispatchQueue;
  /** Called with every finished request (usage, tracing) */
  readonly hooks?: readonly RequestHook[];
  /** The trace stage (proxy/telemetry), placed right after record so its span covers every other stage */
  readonly trace?: Stage;
}

export interface Proxy {
  /** Binds the one data port for HTTP/1.1 and gRPC (h2c); resolves with the bound address */
  listen(host: string, port: number): Promise<AddressInfo>;
  address(): AddressInfo | undefined;
  /** Stops accepting, lets requests in flight finish (up to `shutdownGraceMs`), closes upstream connections */
  close(): Promise<void>;
}

/**
 * The data plane, composed once: record → identify → route → admit → throttle → pick → forward. Record is
 * listed first so it wraps, and so sees, every outcome; route runs before admit because admission gates on the
 * route's module. The composition is checked here, at start-up, not on the first request.
 *
 * ```
 * :8080 ─ sniff preface ─┬─ HTTP/1.1 (parser limits: 431 headers, 408 slow) ─┐  (Content-Length > max: 413)
 *                        └─ h2c (max streams, gRPC only) ────────────────────┤
 *   record ┬ identify ──✗ 401 UNAUTHENTICATED (no/unknown/revoked/expired key or session)
 *          ├ route ─────✗ 404 NO_ROUTE / UNIMPLEMENTED
 *          ├ admit ─────✗ 403 TENANT_INACTIVE · MODULE_DISABLED · NETWORK_RESTRICTED
 *          ├ throttle ──✗ 429 RATE_LIMITED + Retry-After          (Throttle: issue 5 fills it)
 *          ├ pick ──────✗ 503 UNAVAILABLE (no backend; queue full or waited too long, + Retry-After)
 *          │   └ full cluster → DispatchQueue (FIFO now; weighted fair queuing in issue 5)
 *          └ forward ───✗ 504 DEADLINE_EXCEEDED · 503 connect failure (retried once elsewhere when safe)
 *                        · 502 BAD_GATEWAY · 413 body over limit · gRPC framing errors end that stream
 *   every ✗ is a value; entry.ts hands it to respond.ts, the one place it becomes a wire response
 * ```
 */
export function createProxy(options: CreateProxyOptions): Proxy {
  const limits: ProxyLimits = { ...defaultProxyLimits, ...options.limits };
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({ component: "proxy" });
  if (options.identitySecret.length < 32) throw new RangeError("identitySecret must be at least 32 bytes");
  const signing = { secret: options.identitySecret, clock };
  const forwarders = {
    http: new HttpForwarder({
      signing,
      maxBodyBytes: limits.maxBodyBytes,
      defaultTimeoutMs: limits.defaultUpstreamTimeoutMs,
      connectTimeoutMs: limits.connectTimeoutMs,
      maxConnectionsPerBackend: limits.maxConnectionsPerBackend,
    }),
    grpc: new GrpcForwarder({
      signing,
      maxMessageBytes: limits.maxGrpcMessageBytes,
      defaultTimeoutMs: limits.defaultUpstreamTimeoutMs,
      replayBytes: limits.grpcReplayBytes,
      sessionIdleTimeoutMs: limits.upstreamIdleTimeoutMs,
      windowBytes: limits.http2WindowBytes,
    }),
    websocket: new WebSocketForwarder(signing, limits.defaultUpstreamTimeoutMs),
  };
  const createQueue = options.createQueue ?? (() => new FifoDispatchQueue({ maxLength: limits.queueMaxLength, maxWaitMs: limits.queueMaxWaitMs, clock }));

  const stages: NamedStage[] = [
    { name: "record", stage: record(options.metrics, options.hooks ?? [], logger) },
    ...(options.trace ? [{ name: "trace", stage: options.trace }] : []),
    { name: "identify", stage: identify({ directory: options.directory, sessionVerifier: options.sessionVerifier, apiKeyPepper: options.apiKeyPepper, clock }) },
    { name: "route", stage: route(options.routes) },
    { name: "admit", stage: admit() },
    { name: "throttle", stage: throttle(options.throttle ?? new ConcurrencyThrottle(), options.metrics) },
    { name: "pick", stage: pick({ clock, createQueue }) },
    { name: "forward", stage: forward(forwarders) },
  ];
  const pipeline = compose(stages, () => Promise.resolve(new TenantMeshError("TM_ERR_INTERNAL", "the pipeline has no forward stage")));
  const server = new ProxyServer(entryPoints({ pipeline, maxBodyBytes: limits.maxBodyBytes, metrics: options.metrics, logger }), limits, logger);

  return {
    listen: async (host, port) => {
      const address = await server.listen(host, port);
      logger.info({ host: address.address, port: address.port }, "proxy listening (HTTP/1.1 and gRPC h2c)");
      return address;
    },
    address: () => server.address(),
    close: async () => {
      await server.close(limits.shutdownGraceMs);
      forwarders.grpc.close();
      forwarders.websocket.close();
      await forwarders.http.close();
    },
  };
}
