import type { Command } from "commander";
import { registerKeyCommands } from "./keys.js";
import { registerTenantCommands } from "./tenants.js";
import { registerUserCommands } from "./users.js";

/** The client verbs that talk to a running control plane */
export function registerClientCommands(program: Command): void {
  registerTenantCommands(program);
  registerUserCommands(program);
  registerKeyCommands(program);
}
