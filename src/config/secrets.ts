import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { TenantMeshError } from "../errors/index.js";
import { isMasterKey, type Config } from "./schema.js";

export interface Secrets {
  /** The platform operator's bearer token */
  adminToken: string;
  /** Signs session and service tokens */
  tokenSecret: string;
  /** Keys the HMAC of API key secrets; the proxies hold it too, to check keys without the database */
  apiKeyPepper: string;
  /** Signs the tenant identity the proxy forwards to backends (src/identity); proxies and backends share it */
  identitySecret: string;
  /**
   * Seals the keystore of tenant key-encryption keys (src/security): TENANTMESH_MASTER_KEY, else the data dir's
   * `master-key` file (32 random bytes, base64, mode 0600, created on first start)
   */
  masterKey: Buffer;
  masterKeySource: "env" | "file";
  masterKeyFile: string;
  /** True when the operator token was generated now (print it once) */
  adminTokenGenerated: boolean;
  adminTokenFile: string;
}

const token = (bytes: number): string => randomBytes(bytes).toString("base64url");

function readOrCreate(file: string, make: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, "utf8").trim(), created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = make();
  // wx: never overwrite a file another process created meanwhile
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return { value: readFileSync(file, "utf8").trim(), created: false };
    throw err;
  }
}

/**
 * The deployment's secrets: from the environment when set (every replica then shares them), else from files in
 * the data dir created on first start with mode 0600. Nothing here is ever logged.
 */
export function loadSecrets(config: Config): Secrets {
  const adminTokenFile = path.join(config.dataDir, "admin-token");
  const admin = config.adminToken ? { value: config.adminToken, created: false } : readOrCreate(adminTokenFile, () => `tmop_${token(32)}`);
  const tokenSecret = config.tokenSecret ?? readOrCreate(path.join(config.dataDir, "token-secret"), () => token(48)).value;
  const apiKeyPepper = config.apiKeyPepper ?? readOrCreate(path.join(config.dataDir, "api-key-pepper"), () => token(48)).value;
  const identitySecret = config.identitySecret ?? readOrCreate(path.join(config.dataDir, "identity-secret"), () => token(48)).value;
  const masterKeyFile = path.join(config.dataDir, "master-key");
  const masterKeyText = config.masterKey ?? readOrCreate(masterKeyFile, () => randomBytes(32).toString("base64")).value;
  if (!isMasterKey(masterKeyText)) {
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid configuration: ${masterKeyFile} must hold 32 bytes in base64`);
  }
  return {
    adminToken: admin.value,
    tokenSecret,
    apiKeyPepper,
    identitySecret,
    masterKey: Buffer.from(masterKeyText, "base64"),
    masterKeySource: config.masterKey === undefined ? "file" : "env",
    masterKeyFile,
    adminTokenGenerated: admin.created,
    adminTokenFile,
  };
}

/** The operator token for CLI use: the environment first, then the data dir's file */
export function readAdminToken(dataDir: string, env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.TENANTMESH_ADMIN_TOKEN) return env.TENANTMESH_ADMIN_TOKEN;
  const file = path.join(dataDir, "admin-token");
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}
