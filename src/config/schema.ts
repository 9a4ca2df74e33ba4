import { z } from "zod";

// Plain decimal digits only: z.coerce would also take "0x10", "1e3" and (as 0) the empty string.
const digits = z.string().regex(/^\d{1,9}$/, "must be a whole number").transform(Number);
const port = digits.pipe(z.number().int().min(0).max(65_535));
const positiveInt = digits.pipe(z.number().int().positive());
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
/** 32 bytes in base64 or base64url: AES-256 needs exactly that much key, and a typo must fail at start-up */
export const isMasterKey = (v: string): boolean => /^[A-Za-z0-9+/_-]{43}=?$/.test(v) && Buffer.from(v, "base64").length === 32;
const sqlIdentifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier");

/**
 * Every setting of tenantmesh, by its environment variable name. The same names are accepted as keys of the
 * optional JSON file named by TENANTMESH_CONFIG; the environment wins over the file.
 */
export const configSchema = z.object({
  TENANTMESH_DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: optionalString.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL").optional(),
  ),
  DATABASE_POOL_MAX: digits.pipe(z.number().int().min(1).max(1_000)).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.default(3_000),
  TENANTMESH_DB_APP_ROLE: sqlIdentifier.default("tenantmesh_app"),
  TENANTMESH_DB_PLATFORM_ROLE: sqlIdentifier.default("tenantmesh_platform"),
  REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//, "must be a redis:// URL").optional()),
  TENANTMESH_GRPC_HOST: z.string().min(1).default("0.0.0.0"),
  TENANTMESH_GRPC_PORT: port.default(50051),
  TENANTMESH_ADMIN_TOKEN: optionalString.pipe(z.string().min(24, "must be at least 24 characters").optional()),
  TENANTMESH_TOKEN_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  TENANTMESH_IDENTITY_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  TENANTMESH_API_KEY_PEPPER: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  // Seals the keystore of tenant key-encryption keys (src/security); 32 random bytes, base64 or base64url.
  TENANTMESH_MASTER_KEY: optionalString.pipe(
    z.string().refine(isMasterKey, "must be 32 random bytes in base64 (e.g. openssl rand -base64 32)").optional(),
  ),
  TENANTMESH_DB_HEALTH_INTERVAL_MS: positiveInt.default(1_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type ConfigInput = z.input<typeof configSchema>;

/** Validated settings, named for the code that uses them */
export interface Config {
  dataDir: string;
  database:
    | { kind: "pglite"; dataDir: string | undefined; appRole: string; platformRole: string }
    | { kind: "postgres"; url: string; poolMax: number; connectTimeoutMs: number; appRole: string; platformRole: string };
  redisUrl: string | undefined;
  grpc: { host: string; port: number };
  adminToken: string | undefined;
  tokenSecret: string | undefined;
  apiKeyPepper: string | undefined;
  identitySecret: string | undefined;
  /** TENANTMESH_MASTER_KEY; undefined: the data dir's master-key file (created on first start) */
  masterKey: string | undefined;
  dbHealthIntervalMs: number;
  logLevel: z.infer<typeof configSchema>["LOG_LEVEL"];
}
