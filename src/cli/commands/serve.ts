import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { startControlPlane } from "../../control-plane/index.js";
import { createLogger } from "../../log/index.js";
import { onShutdown } from "../shutdown.js";

/** `tenantmesh control-plane` and `tenantmesh up` (the whole mesh on embedded defaults) */
export function registerServeCommands(program: Command): void {
  program
    .command("control-plane")
    .description("serve the control plane's gRPC services (default port 50051)")
    .option("--port <port>", "gRPC port (overrides TENANTMESH_GRPC_PORT)")
    .action(async (opts: { port?: string }) => {
      const config = loadConfig({ ...process.env, ...(opts.port ? { TENANTMESH_GRPC_PORT: opts.port } : {}) });
      const logger = createLogger({ level: config.logLevel, name: "control-plane" });
      const cp = await startControlPlane(config, { logger });
      logger.info({ port: cp.port, database: config.database.kind }, "control plane listening");
      onShutdown(logger, () => cp.close());
    });

  program
    .command("up")
    .description("run the whole mesh on the configured (by default embedded) database, and print where to look")
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: "tenantmesh" });
      const cp = await startControlPlane(config, { logger });
      await cp.ready;
      const lines = [
        "",
        "tenantmesh is up",
        `  control plane (gRPC, health, reflection)  localhost:${cp.port}`,
        `  database                                  ${config.database.kind === "pglite" ? `embedded PGlite in ${config.database.dataDir}` : "PostgreSQL (DATABASE_URL)"}`,
        cp.secrets.adminTokenGenerated
          ? `  operator token (shown once, also in ${cp.secrets.adminTokenFile}):\n    ${cp.secrets.adminToken}`
          : `  operator token                            ${config.adminToken ? "TENANTMESH_ADMIN_TOKEN" : cp.secrets.adminTokenFile}`,
        "",
        "  try:  npx tenantmesh tenants list",
        "        grpcurl -plaintext localhost:50051 list",
        "",
        "Ctrl-C stops everything.",
        "",
      ];
      process.stdout.write(lines.join("\n"));
      onShutdown(logger, () => cp.close());
    });
}
