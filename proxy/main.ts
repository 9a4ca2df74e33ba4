import { systemClock, type Clock } from "../src/auth/clock.js";
import type { Logger } from "../src/log/index.js";
import { startAdminServer, type AdminServer } from "./admin.js";
import { ConfigWatcher } from "./config/index.js";
import { WatchDirectory } from "./directory/index.js";
import { ProxyMetrics } from "./metrics.js";
import { createProxy, type CreateProxyOptions, type Proxy } from "./proxy.js";
import { GrpcSessionVerifier } from "./session-verifier.js";

export interface ProxyProcessOptions {
  /** The proxy's YAML/JSON config file (clusters, routes, listeners, limits) */
  configFile: string;
  /** Where the last-known-good tenant directory is kept */
  dataDir: string;
  /** Service token with scopes tenants:watch and sessions:verify */
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
}

export interface ProxyProcess {
  readonly port: number;
  readonly adminPort: number;
  readonly directory: WatchDirectory;
  readonly proxy: Proxy;
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
  const proxy = createProxy({
    directory,
    sessionVerifier,
    routes: () => watcher.routes(),
    metrics,
    identitySecret: options.identitySecret,
    apiKeyPepper: options.apiKeyPepper,
    limits: config.limits,
    clock,
    logger,
    ...options.extend,
  });

  const listen = options.listen ?? config.listen;
  const bound = await proxy.listen(listen.host, listen.port);
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
    });
  } catch (err) {
    await proxy.close();
    throw err;
  }

  return {
    port: bound.port,
    adminPort: admin.port,
    directory,
    proxy,
    async close() {
      await admin.close();
      await proxy.close();
      sessionVerifier.close();
      await directory.close();
      await watcher.close();
      metrics.close();
    },
  };
}
