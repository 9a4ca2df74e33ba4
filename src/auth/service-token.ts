/**
 * Service tokens: credentials for service principals (proxies, backends), `tmsvc_<payload>.<mac>` (see
 * signed-token.ts), carrying a narrow list of scopes. They may be long-lived: without `expiresAt` a token is
 * valid until its signing secret is rotated out, so give one wherever the deployment allows.
 */
import { hasExactKeys, isBoundedString, isEpochMs } from "./claims.js";
import { MAX_CLOCK_SKEW_MS, openToken, sealToken, type TokenKind, type TokenSecrets, type TokenVerification } from "./signed-token.js";

/** What a service token asserts. Times are milliseconds since the epoch. */
export interface ServiceClaims {
  /** The service principal, e.g. `proxy-eu-1` */
  name: string;
  /** What it may do, e.g. `routes:read`; 1–32 entries of lower-case `[a-z0-9_.:-]` */
  scopes: string[];
  issuedAt: number;
  /** Absent for a token that lives until its secret is rotated out */
  expiresAt?: number;
}

const SERVICE: TokenKind = { prefix: "tmsvc_", typ: "service" };
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SCOPE = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
const MAX_SCOPES = 32;

/** Signs `claims` with the first of `secrets`. Throws on invalid claims, which are a bug in the caller. */
export function signServiceToken(secrets: TokenSecrets, claims: ServiceClaims): string {
  if (!isValid(claims)) throw new RangeError("invalid service claims (name, scopes or times)");
  const { name, scopes, issuedAt, expiresAt } = claims;
  return sealToken(SERVICE, secrets, { name, scopes: [...scopes], issuedAt, ...(expiresAt === undefined ? {} : { expiresAt }) });
}

/**
 * Checks a presented service token at `nowMs`; failures as for verifySessionToken (a session token here is
 * `malformed`). Callers then check the scope they need with hasScope.
 */
export function verifyServiceToken(secrets: TokenSecrets, token: string, nowMs: number): TokenVerification<ServiceClaims> {
  const opened = openToken(SERVICE, secrets, token);
  if (!opened.ok) return opened;
  const { payload } = opened;
  if (!hasExactKeys(payload, ["name", "scopes", "issuedAt"], ["expiresAt"]) || !isValid(payload)) {
    return { ok: false, reason: "malformed" };
  }
  if (payload.issuedAt > nowMs + MAX_CLOCK_SKEW_MS) return { ok: false, reason: "malformed" };
  if (payload.expiresAt !== undefined && nowMs >= payload.expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, claims: payload };
}

/** True when the verified claims grant `scope` (exact match; there are no wildcards) */
export function hasScope(claims: ServiceClaims, scope: string): boolean {
  return claims.scopes.includes(scope);
}

function isValid(claims: Record<string, unknown> | ServiceClaims): claims is ServiceClaims {
  const c: Record<string, unknown> = { ...claims };
  const scopes = c.scopes;
  return (
    isBoundedString(c.name, 128) &&
    NAME.test(c.name) &&
    Array.isArray(scopes) &&
    scopes.length > 0 &&
    scopes.length <= MAX_SCOPES &&
    scopes.every((s: unknown) => typeof s === "string" && SCOPE.test(s)) &&
    new Set(scopes).size === scopes.length &&
    isEpochMs(c.issuedAt) &&
    (c.expiresAt === undefined || (isEpochMs(c.expiresAt) && c.expiresAt > c.issuedAt))
  );
}
