import type { Command } from "commander";
import { isServiceScope, serviceScopes, type ServiceScope } from "../../authz/index.js";
import { loadConfig } from "../../config/index.js";
import { issueServiceToken, loadSecrets } from "../../control-plane/index.js";
import { TenantMeshError } from "../../errors/index.js";

/** `tenantmesh service-token --name proxy-1 --scope tenants:watch …`: mints a token from the data dir's secret */
export function registerServiceTokenCommand(program: Command): void {
  program
    .command("service-token")
    .description(`mint a service token for a proxy or backend (scopes: ${serviceScopes.join(", ")})`)
    .requiredOption("--name <name>", "the service's name, e.g. proxy-eu-1")
    .requiredOption("--scope <scope...>", "scopes to grant")
    .option("--ttl-hours <hours>", "expire after this many hours")
    .action((opts: { name: string; scope: string[]; ttlHours?: string }) => {
      const bad = opts.scope.filter((s) => !isServiceScope(s));
      if (bad.length) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `unknown scope(s): ${bad.join(", ")}`);
      const ttlHours = opts.ttlHours === undefined ? undefined : Number(opts.ttlHours);
      if (ttlHours !== undefined && !(ttlHours > 0)) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "--ttl-hours must be a positive number");
      const secrets = loadSecrets(loadConfig());
      const token = issueServiceToken(secrets, opts.name, opts.scope as ServiceScope[], ttlHours ? { ttlMs: ttlHours * 3_600_000 } : {});
      process.stdout.write(`${token}\n`);
    });
}
