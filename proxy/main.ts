import { systemClock, type Clock } from "../src/auth/clock.js";
import { loadConfig } from "../src/config/index.js";
import type { Logger } from "../src/log/index.js";
import { startAdminServer, type AdminServer } from "./admin.js";
import { ConfigWatcher } from "./config/index.js";
import { WatchDirectory } from "./directory/index.js";
import { createIsolation, type IsolationOptions } from "./limits/index.js";
import { ProxyMetrics } from "./metrics.js";
import { createProxy, defaultProxyLimits, type CreateProxyOptions, type Proxy } from "./proxy.js";
import { GrpcSessionVerifier } from "./session-verifier.js";
import { createProxyTelemetry, type ProxyTelemetry, type ProxyTelemetryOptions } from "./telemetry/index.js";
import { createUsageMeter, type ProxyUsageOptions, type UsageMeter } from "./usage/index.js";

export interface ProxyProcessOptions {
  /** The proxy's YAML/JSON config file (clusters, routes, listeners, limits) */
  configFile: string;
  /** Where the last-known-good tenant directory is kept */
  dataDir: string;
  /** Service token with scopes tenants:watch and sessions:verify (and metrics:write, for the monitor's windows) */
  serviceToken: string;
  apiKeyPepper: Buffer;
  identitySecret: Buffer;
  /** Guards the admin API's /admin/* endpoints */
  operatorToken: string;
  logger: Logger;
  clock?: Clock;
  /** Override the config file's listeners (tests: port 0) */
  listen?: { host: string; port: number };
  admin?: { host: string; port: number };
  /** Extra pipeline hooks and policies (usage metering, tracing, throttling) */
  extend?: Pick<CreateProxyOptions, "hooks" | "throttle" | "createQueue">;
  /**
   * Share rate limits through this Redis; `false` keeps them in this process. Default: REDIS_URL from the
   * configuration (loadConfig), so `tenantmesh proxy` replicas with REDIS_URL set enforce one limit together.
   */
  redisUrl?: string | false;
  /** Tuning of the isolation layer (proxy/limits): adaptive concurrency, per-tenant queue bound, insurance share */
  isolation?: Pick<IsolationOptions, "adaptive" | "tenantQueueFactor" | "insuranceShare">;
  /**
   * Tracing and the monitor feed: `tracing` defaults to the SDK this process started (none: off), windows go
   * to the control plane's MonitorService with the service token (which then needs metrics:write).
   */
  telemetry?: Pick<ProxyTelemetryOptions, "tracing" | "windowMs" | "ring"> & { source?: string };
  /**
   * Usage metering (api_calls, compute) to the control plane's QuotaService with the service token (which then
   * needs usage:write), spooled in the data dir, and the monthly API-call and compute quotas enforced here;
   * `false` turns both off. Default: on.
   */
  usage?: ProxyUsageOptions | false;
}

export interface ProxyProcess {
  readonly port: number;
  readonly adminPort: number;
  readonly directory: WatchDirectory;
  readonly proxy: Proxy;
  /** The trace ring, window aggregator and metrics reporter */
  readonly telemetry: ProxyTelemetry;
  /** The usage meter (undefined when `usage: false`) */
  readonly usage: UsageMeter | undefined;
  close(): Promise<void>;
}

/**
 * The proxy's composition root: the config file (watched, reloaded without restart), the tenant directory fed
 * by WatchTenants (last-known-good on disk), session verification, metrics, the data listener and the admin
 * listener. Starts serving known tenants at once when the control plane is down.
 */
export async function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const watcher = await ConfigWatcher.start(options.configFile, { logger });
  const config = watcher.current().config;

  const directory = new WatchDirectory({
    address: config.controlPlane.address,
    serviceToken: options.serviceToken,
    dataDir: options.dataDir,
    // A snapshot is one message of about 1 KB per tenant: leave room for hundreds of thousands of tenants.
    channelOptions: { "grpc.max_receive_message_length": 512 * 1024 * 1024 },
    clock,
    logger,
  }).start();
  const sessionVerifier = new GrpcSessionVerifier({
    address: config.controlPlane.address,
    serviceToken: options.serviceToken,
    clock,
    logger,
    directory,
  });
  const metrics = new ProxyMetrics();
  // Per-tenant rate, burst, throughput and concurrency limits, and weighted fair queuing at full clusters
  const limits = { ...defaultProxyLimits, ...config.limits };
  const isolation = createIsolation({
    clock,
    logger,
    metrics,
    redisUrl: options.redisUrl === false ? undefined : (options.redisUrl ?? loadConfig().redisUrl),
    queueMaxLength: limits.queueMaxLength,
    queueMaxWaitMs: limits.queueMaxWaitMs,
    ...options.isolation,
  });
  const { source, ...telemetryOptions } = options.telemetry ?? {};
  const telemetry = createProxyTelemetry({
    directory,
    routes: () => watcher.routes(),
    clock,
    logger,
    report: { address: config.controlPlane.address, serviceToken: options.serviceToken, ...(source === undefined ? {} : { source }) },
    ...telemetryOptions,
  });
  const usage =
    options.usage === false
      ? undefined
      : createUsageMeter({ ...options.usage, address: config.controlPlane.address, serviceToken: options.serviceToken, dataDir: options.dataDir, registry: metrics.registry, clock, logger });
  const proxy = createProxy({
    directory,
    sessionVerifier,
    // Adaptive clusters: usable concurrency follows what the backends sustain (the admin API keeps the plain table)
    routes: isolation.routes(() => watcher.routes()),
    metrics,
    identitySecret: options.identitySecret,
    apiKeyPepper: options.apiKeyPepper,
    limits: config.limits,
    clock,
    logger,
    // Tenants over a monthly quota are refused before the rate limiter spends a token on them
    throttle: usage ? usage.quotas.gate(isolation.throttle) : isolation.throttle,
    createQueue: isolation.createQueue,
    ...options.extend,
    hooks: [isolation.hook, ...telemetry.hooks, ...(usage ? [usage.hook] : []), ...(options.extend?.hooks ?? [])],
    ...(telemetry.trace ? { trace: telemetry.trace } : {}),
  });

  const listen = options.listen ?? config.listen;
  const bound = await proxy.listen(listen.host, listen.port).catch(async (err: unknown) => {
    await usage?.close();
    await isolation.close();
    await telemetry.close();
    throw err;
  });
  let admin: AdminServer;
  try {
    const adminAt = options.admin ?? config.admin;
    admin = await startAdminServer({
      host: adminAt.host,
      port: adminAt.port,
      directory,
      routes: () => watcher.routes(),
      metrics,
      operatorToken: options.operatorToken,
      isReady: () => (proxy.address() ? true : "data listener not bound"),
      clock,
      logger,
      operatorRoutes: telemetry.adminRoutes,
    });
  } catch (err) {
    await proxy.close();
    await usage?.close();
    await isolation.close();
    await telemetry.close();
    throw err;
  }

  return {
    port: bound.port,
    adminPort: admin.port,
    directory,
    proxy,
    telemetry,
    usage,
    async close() {
      await admin.close();
      await proxy.close();
      // After the proxy drained: the last requests are counted, spooled and (if the control plane answers) sent
      await usage?.close();
      await isolation.close();
      // After the proxy: requests that finished while it drained are in the last windows sent
      await telemetry.close();
      sessionVerifier.close();
      await directory.close();
      await watcher.close();
      metrics.close();
    },
  };
}
