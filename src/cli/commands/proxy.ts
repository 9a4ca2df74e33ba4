import type { Command } from "commander";
import { loadConfig, loadSecrets } from "../../config/index.js";
import { issueServiceToken } from "../../control-plane/index.js";
import { createLogger } from "../../log/index.js";
import { startProxyProcess } from "../../../proxy/main.js";
import { onShutdown } from "../shutdown.js";
import { defaultProxyConfigFile } from "../mesh-files.js";
import { startTracing, tracingConfigFromEnv } from "../../telemetry/index.js";

/**
 * `tenantmesh proxy --config FILE`: the data plane in its own process. The CLI is the composition root, the one
 * place in src/ allowed to import proxy/ (domain code never does).
 */
export function registerProxyCommand(program: Command): void {
  program
    .command("proxy")
    .description("serve the tenant-aware proxy: HTTP/1.1 and gRPC on :8080, admin on 127.0.0.1:9901")
    .option("--config <file>", "proxy config file (YAML or JSON); default: <data dir>/proxy.yaml, else examples/proxy.yaml")
    .option("--service-token <token>", "service token with tenants:watch and sessions:verify (default: TENANTMESH_SERVICE_TOKEN, else minted from the data dir's token secret)")
    .action(async (opts: { config?: string; serviceToken?: string }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: "proxy" });
      // The proxy passes trace contexts explicitly: no AsyncLocalStorage (it would tax every promise)
      const tracing = startTracing(tracingConfigFromEnv(process.env, "tenantmesh-proxy"), { asyncContext: false });
      const secrets = loadSecrets(config);
      const serviceToken =
        opts.serviceToken ?? process.env.TENANTMESH_SERVICE_TOKEN ?? issueServiceToken(secrets, "proxy", ["tenants:watch", "sessions:verify", "usage:write", "metrics:write"]);
      const proxy = await startProxyProcess({
        configFile: opts.config ?? defaultProxyConfigFile(config.dataDir),
        dataDir: config.dataDir,
        serviceToken,
        apiKeyPepper: Buffer.from(secrets.apiKeyPepper),
        identitySecret: Buffer.from(secrets.identitySecret),
        operatorToken: secrets.adminToken,
        logger,
      });
      logger.info({ port: proxy.port, admin_port: proxy.adminPort }, "proxy listening");
      onShutdown(logger, async () => {
        await proxy.close();
        await tracing?.shutdown();
      });
    });
}
