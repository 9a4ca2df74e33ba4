import { parseApiKey, verifyApiKeySecret } from "../../src/auth/api-key.js";
import type { Clock } from "../../src/auth/clock.js";
import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import { identityHeaders } from "../../src/identity/index.js";
import type { ProxyContext } from "../context.js";
import type { SessionVerifier, TenantDirectory, TenantEntry } from "../directory/types.js";
import type { Handler, Stage, StageResult } from "./stage.js";

export interface IdentifyOptions {
  readonly directory: TenantDirectory;
  readonly sessionVerifier: SessionVerifier;
  /** The deployment's API key pepper (≥ 32 bytes), the key of the stored secret hashes */
  readonly apiKeyPepper: Buffer;
  readonly clock: Clock;
  /** Verified API keys remembered, so the hot path skips the HMAC (default 10,000) */
  readonly verifiedKeyCacheSize?: number;
}

/** Same text for every credential failure: which check failed is for the log, not for a prober */
const unauthenticated = (): TenantMeshError => withoutStack(() => new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a valid API key or session token is required"));

/**
 * Identify: names the tenant behind a request from its credential — an API key (`tm_…`, in
 * `Authorization: Bearer` or `x-api-key`; gRPC metadata `authorization`) or a user session token (`tms_…`,
 * checked by the SessionVerifier, which caches). Anything else, or a key that is unknown, revoked, expired or
 * whose secret does not match, is TM_ERR_UNAUTHENTICATED.
 *
 * Identity headers a client sent itself (`x-tenant-id`, `x-tenant-principal`, `x-tenant-identity`) are removed
 * here, before any later stage could read them; the forwarder drops every other `x-tenant-*` header and sets the
 * signed identity instead.
 */
export function identify(options: IdentifyOptions): Stage {
  const { directory, sessionVerifier, apiKeyPepper, clock } = options;
  const keys = new VerifiedKeys(options.verifiedKeyCacheSize ?? 10_000);

  return (next: Handler): Handler =>
    (ctx) => {
      stripForgedIdentity(ctx);
      const token = credentialOf(ctx);
      if (token === undefined) return Promise.resolve(unauthenticated());
      if (token.startsWith("tm_")) {
        // The cache maps a presented token to its key id and the stored hash it matched. A revoked key is gone
        // from the directory and a rotated secret changes the stored hash, so a stale entry can never admit.
        const cached = keys.get(token);
        const parsed = cached === undefined ? parseApiKey(token) : undefined;
        const keyId = cached?.keyId ?? parsed?.keyId;
        if (keyId === undefined) return Promise.resolve(unauthenticated());
        const hit = directory.apiKey(keyId);
        if (hit === undefined) return Promise.resolve(unauthenticated());
        const { key, tenant } = hit;
        if (key.expiresAt !== undefined && key.expiresAt <= clock.now()) return Promise.resolve(unauthenticated());
        if (cached?.secretHash !== key.secretHash) {
          const secret = (parsed ?? parseApiKey(token))?.secret;
          if (secret === undefined || !verifyApiKeySecret(apiKeyPepper, keyId, secret, key.secretHash)) return Promise.resolve(unauthenticated());
          keys.set(token, { keyId, secretHash: key.secretHash });
        }
        ctx.tenant = tenant;
        ctx.principal = `api_key:${key.keyId}`;
        return next(ctx);
      }
      if (token.startsWith("tms_")) return viaSession(ctx, token, next);
      return Promise.resolve(unauthenticated());
    };

  async function viaSession(ctx: ProxyContext, token: string, next: Handler): Promise<StageResult> {
    const session = await sessionVerifier.verify(token);
    if (session === null) return unauthenticated();
    const tenant: TenantEntry | undefined = directory.tenant(session.tenantId);
    if (tenant === undefined) return unauthenticated();
    ctx.tenant = tenant;
    ctx.principal = `user:${session.userId}`;
    return next(ctx);
  }
}

/** The presented credential: `authorization: Bearer <token>`, else `x-api-key`; a repeated header counts as none */
function credentialOf(ctx: ProxyContext): string | undefined {
  const auth = ctx.headers.authorization;
  if (typeof auth === "string") {
    // RFC 9110: the scheme is case-insensitive
    if (auth.length > 7 && auth.charCodeAt(6) === 32 && auth.slice(0, 6).toLowerCase() === "bearer") return auth.slice(7).trim();
    return undefined;
  }
  const apiKey = ctx.headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey.trim() : undefined;
}

function stripForgedIdentity(ctx: ProxyContext): void {
  const h = ctx.headers as Record<string, unknown>;
  // Reads of absent keys are cheap; `delete` (which slows the object down) only runs for a forging client
  if (h[identityHeaders.tenantId] !== undefined) delete h[identityHeaders.tenantId];
  if (h[identityHeaders.principal] !== undefined) delete h[identityHeaders.principal];
  if (h[identityHeaders.signature] !== undefined) delete h[identityHeaders.signature];
}

interface VerifiedKey {
  readonly keyId: string;
  readonly secretHash: string;
}

/** A bounded map of token → its key id and the stored hash it was verified against; the oldest goes first */
class VerifiedKeys {
  private readonly map = new Map<string, VerifiedKey>();
  constructor(private readonly max: number) {}

  get(token: string): VerifiedKey | undefined {
    return this.map.get(token);
  }

  set(token: string, verified: VerifiedKey): void {
    if (this.max <= 0) return;
    this.map.set(token, verified);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}
