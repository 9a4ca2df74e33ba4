import type { Command } from "commander";
import { registerKeyCommands } from "./keys.js";
import { registerTenantCommands } from "./tenants.js";
import { registerUserCommands } from "./users.js";
import { registerSecurityCommands } from "./security.js";
import { registerAuditCommand } from "./audit.js";
import { registerComplianceCommands } from "./compliance.js";
import { registerTopCommand } from "./top.js";
import { registerTracesCommand } from "./traces.js";
import { registerUsageCommand } from "./usage.js";
import { registerCostsCommand } from "./costs.js";
import { registerInvoiceCommands } from "./invoices.js";
import { registerPoolsCommand } from "./pools.js";

/** The client verbs that talk to a running control plane */
export function registerClientCommands(program: Command): void {
  registerTenantCommands(program);
  registerUserCommands(program);
  registerKeyCommands(program);
  registerSecurityCommands(program);
  registerAuditCommand(program);
  registerComplianceCommands(program);
  registerTopCommand(program);
  registerTracesCommand(program);
  registerUsageCommand(program);
  registerCostsCommand(program);
  registerInvoiceCommands(program);
  registerPoolsCommand(program);
}
