import { readFileSync } from "node:fs";
import path from "node:path";
import { TenantMeshError } from "../errors/index.js";
import { configSchema, type Config } from "./schema.js";

type Env = Record<string, string | undefined>;

function readConfigFile(file: string): Env {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid configuration: TENANTMESH_CONFIG: cannot read ${file} (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid configuration: TENANTMESH_CONFIG: ${file} is not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid configuration: TENANTMESH_CONFIG: ${file} must hold a JSON object`);
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

/**
 * Reads and validates the configuration from the environment (and the optional JSON file named by
 * TENANTMESH_CONFIG). A bad value throws one TM_ERR_INVALID_CONFIG listing every bad field, so a process
 * stops at start-up with the whole story instead of failing later one field at a time.
 */
export function loadConfig(env: Env = process.env, options: { inMemoryDatabase?: boolean } = {}): Config {
  const fromFile = env.TENANTMESH_CONFIG ? readConfigFile(env.TENANTMESH_CONFIG) : {};
  const merged: Env = { ...fromFile };
  // A blank value means "not set" (as `FOO= cmd` does in a shell), so the default or the file applies.
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value.trim() !== "") merged[key] = value;
  for (const [key, value] of Object.entries(merged)) if (value !== undefined && value.trim() === "") delete merged[key];

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid configuration: ${fields.join("; ")}`, {
      violations: result.error.issues.map((issue) => ({ field: issue.path.join("."), description: issue.message })),
    });
  }
  const c = result.data;
  const dataDir = path.resolve(c.TENANTMESH_DATA_DIR);
  const roles = { appRole: c.TENANTMESH_DB_APP_ROLE, platformRole: c.TENANTMESH_DB_PLATFORM_ROLE };
  return {
    dataDir,
    database: c.DATABASE_URL
      ? { kind: "postgres", url: c.DATABASE_URL, poolMax: c.DATABASE_POOL_MAX, connectTimeoutMs: c.DATABASE_CONNECT_TIMEOUT_MS, ...roles }
      : { kind: "pglite", dataDir: options.inMemoryDatabase ? undefined : path.join(dataDir, "pglite"), ...roles },
    redisUrl: c.REDIS_URL,
    grpc: { host: c.TENANTMESH_GRPC_HOST, port: c.TENANTMESH_GRPC_PORT },
    adminToken: c.TENANTMESH_ADMIN_TOKEN,
    tokenSecret: c.TENANTMESH_TOKEN_SECRET,
    apiKeyPepper: c.TENANTMESH_API_KEY_PEPPER,
    identitySecret: c.TENANTMESH_IDENTITY_SECRET,
    masterKey: c.TENANTMESH_MASTER_KEY,
    dbHealthIntervalMs: c.TENANTMESH_DB_HEALTH_INTERVAL_MS,
    logLevel: c.LOG_LEVEL,
  };
}
