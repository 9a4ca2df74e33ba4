import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { startControlPlane } from "../../control-plane/index.js";
import { createLogger } from "../../log/index.js";
import { onShutdown } from "../shutdown.js";
import { startTracing, tracingConfigFromEnv } from "../../telemetry/index.js";

/** `tenantmesh control-plane` */
export function registerServeCommands(program: Command): void {
  program
    .command("control-plane")
    .description("serve the control plane's gRPC services (default port 50051)")
    .option("--port <port>", "gRPC port (overrides TENANTMESH_GRPC_PORT)")
    .action(async (opts: { port?: string }) => {
      const config = loadConfig({ ...process.env, ...(opts.port ? { TENANTMESH_GRPC_PORT: opts.port } : {}) });
      const logger = createLogger({ level: config.logLevel, name: "control-plane" });
      const tracing = startTracing(tracingConfigFromEnv(process.env, "tenantmesh-control-plane"));
      const cp = await startControlPlane(config, { logger });
      logger.info({ port: cp.port, database: config.database.kind }, "control plane listening");
      onShutdown(logger, async () => {
        await cp.close();
        await tracing?.shutdown();
      });
    });
}
