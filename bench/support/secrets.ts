import { createHash } from "node:crypto";
import { hashApiKeySecret } from "../../src/auth/api-key.js";

/**
 * Deterministic secrets for benchmark processes (derived from BENCH_SEED), so that the load generator, the
 * proxy and a KYB backend started separately agree on them without passing secrets on command lines.
 * Benchmark-only: never a deployment's secrets.
 */
export function benchSecrets(seed = process.env.BENCH_SEED ?? "tenantmesh-bench") {
  const derive = (label: string): Buffer => createHash("sha256").update(`${seed}:${label}`).digest();
  const identitySecret = derive("identity");
  const pepper = derive("pepper");
  const keyId = "benchbenchab";
  const secret = derive("key").toString("base64").replace(/[^0-9A-Za-z]/g, "").slice(0, 32).padEnd(32, "A");
  const tenantId = process.env.BENCH_TENANT_ID ?? "0b8a0d35-52a5-4a6c-9e67-2f7a1c3e9d10";
  return {
    identitySecret,
    pepper,
    tenantId,
    token: `tm_${keyId}_${secret}`,
    keyDigest: { keyId, secretHash: hashApiKeySecret(pepper, keyId, secret), role: "admin", expiresAt: undefined },
  };
}
