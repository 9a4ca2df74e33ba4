import type { Command } from "commander";
import { connect, type ClientOptions, type Clients } from "../client.js";

/** Adds the options every client verb shares */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option("--addr <host:port>", "control plane address", process.env.TENANTMESH_ADDR ?? "localhost:50051")
    .option("--token <token>", "bearer token (default: the operator token from TENANTMESH_ADMIN_TOKEN or the data dir)")
    .option("--json", "print JSON instead of a table");
}

/** Runs `fn` with connected clients and always closes them */
export async function withClients<T>(opts: ClientOptions, fn: (c: Clients) => Promise<T>): Promise<T> {
  const clients = connect(opts);
  try {
    return await fn(clients);
  } finally {
    clients.close();
  }
}

/** The options object commander hands the action (the command's own, merged with its parents') */
export const optsOf = <T>(cmd: Command): T => cmd.optsWithGlobals() as T;
