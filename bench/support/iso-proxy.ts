/**
 * The tenantmesh proxy of the isolation benchmark, in its own process: `startProxyProcess` exactly as
 * `tenantmesh proxy` runs it (config file, WatchTenants directory, session verification, metrics, usage
 * metering, the isolation layer), with the isolation tuning given as JSON:
 *   node --import tsx bench/support/iso-proxy.ts <config file> '<{"adaptive": false | {…}}>'
 * Secrets and the service token come from the data dir (TENANTMESH_DATA_DIR), as for the CLI. Prints
 * `ready <port> <admin port>`.
 */
import { startProxyProcess, type ProxyProcessOptions } from "../../proxy/main.js";
import { loadConfig, loadSecrets } from "../../src/config/index.js";
import { issueServiceToken } from "../../src/control-plane/index.js";
import { createLogger } from "../../src/log/index.js";

const [configFile = "", isolationArg = "{}"] = process.argv.slice(2);
const config = loadConfig();
const secrets = loadSecrets(config);
const logger = createLogger({ level: config.logLevel, name: "proxy" });
const proxy = await startProxyProcess({
  configFile,
  dataDir: config.dataDir,
  serviceToken: issueServiceToken(secrets, "bench-proxy", ["tenants:watch", "sessions:verify", "usage:write", "metrics:write"]),
  apiKeyPepper: Buffer.from(secrets.apiKeyPepper),
  identitySecret: Buffer.from(secrets.identitySecret),
  operatorToken: secrets.adminToken,
  logger,
  isolation: JSON.parse(isolationArg) as NonNullable<ProxyProcessOptions["isolation"]>,
});
console.log(`ready ${proxy.port} ${proxy.adminPort}`);
const stop = (): void => {
  void proxy.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
