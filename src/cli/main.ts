import { Command, CommanderError } from "commander";
import { TenantMeshError } from "../errors/index.js";
import { registerServeCommands } from "./commands/serve.js";
import { registerMigrateCommand } from "./commands/migrate.js";
import { registerServiceTokenCommand } from "./commands/service-token.js";
import { registerClientCommands } from "./commands/client-commands.js";
import { registerProxyCommand } from "./commands/proxy.js";
import { registerUpCommand } from "./commands/up.js";
import { registerKybCommand } from "./commands/kyb.js";

/**
 * The `tenantmesh` command. Every failure ends as one line on stderr and a non-zero exit code; a stack trace
 * is printed only for an unexpected bug and only with TENANTMESH_DEBUG set.
 */
const program = new Command()
  .name("tenantmesh")
  .description("A multi-tenant service mesh for SaaS platforms")
  .showHelpAfterError()
  .exitOverride();

registerServeCommands(program);
registerMigrateCommand(program);
registerServiceTokenCommand(program);
registerClientCommands(program);
registerProxyCommand(program);
registerUpCommand(program);
registerKybCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const message =
    err instanceof TenantMeshError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`tenantmesh: ${message}\n`);
  if (process.env.TENANTMESH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
