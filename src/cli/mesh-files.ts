import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository (package) root, for files shipped with tenantmesh */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The proxy config: the data dir's own `proxy.yaml` when an operator put one there, else the shipped example */
export function defaultProxyConfigFile(dataDir: string): string {
  const own = path.join(dataDir, "proxy.yaml");
  return existsSync(own) ? own : path.join(packageRoot, "examples", "proxy.yaml");
}
