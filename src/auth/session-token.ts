/**
 * Session tokens: what the control plane hands a user after login, `tms_<payload>.<mac>` (see
 * signed-token.ts). Short-lived (at most SESSION_TOKEN_MAX_TTL_MS) and stateless to check; the session id
 * lets a server-side session list revoke one before it expires.
 */
import { hasExactKeys, isBoundedString, isEpochMs } from "./claims.js";
import { MAX_CLOCK_SKEW_MS, openToken, sealToken, type TokenKind, type TokenSecrets, type TokenVerification } from "./signed-token.js";

/** What a session token asserts. Times are milliseconds since the epoch. */
export interface SessionClaims {
  tenantId: string;
  userId: string;
  /** The user's role in the tenant when the token was issued (users.role) */
  role: string;
  sessionId: string;
  issuedAt: number;
  expiresAt: number;
}

/** The longest lifetime a session token may have; longer ones are refused by both sign and verify */
export const SESSION_TOKEN_MAX_TTL_MS = 24 * 60 * 60 * 1000;

const SESSION: TokenKind = { prefix: "tms_", typ: "session" };
const FIELDS = ["tenantId", "userId", "role", "sessionId", "issuedAt", "expiresAt"] as const;

/** Signs `claims` with the first of `secrets`. Throws on invalid claims, which are a bug in the caller. */
export function signSessionToken(secrets: TokenSecrets, claims: SessionClaims): string {
  if (!isValid(claims)) throw new RangeError("invalid session claims (empty field, bad time, or lifetime over 24 h)");
  const { tenantId, userId, role, sessionId, issuedAt, expiresAt } = claims;
  return sealToken(SESSION, secrets, { tenantId, userId, role, sessionId, issuedAt, expiresAt });
}

/**
 * Checks a presented session token at `nowMs`. Expected failures are values: `malformed` (including a service
 * token, a lifetime over the maximum, or an issued-at more than MAX_CLOCK_SKEW_MS ahead), `bad_signature`
 * (tampered, or signed by a secret no longer held), `expired`.
 */
export function verifySessionToken(secrets: TokenSecrets, token: string, nowMs: number): TokenVerification<SessionClaims> {
  const opened = openToken(SESSION, secrets, token);
  if (!opened.ok) return opened;
  const { payload } = opened;
  if (!hasExactKeys(payload, FIELDS) || !isValid(payload)) return { ok: false, reason: "malformed" };
  if (payload.issuedAt > nowMs + MAX_CLOCK_SKEW_MS) return { ok: false, reason: "malformed" };
  if (nowMs >= payload.expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, claims: payload };
}

function isValid(claims: Record<string, unknown> | SessionClaims): claims is SessionClaims {
  const c: Record<string, unknown> = { ...claims };
  return (
    isBoundedString(c.tenantId, 128) &&
    isBoundedString(c.userId, 128) &&
    isBoundedString(c.role, 50) &&
    isBoundedString(c.sessionId, 128) &&
    isEpochMs(c.issuedAt) &&
    isEpochMs(c.expiresAt) &&
    c.expiresAt > c.issuedAt &&
    c.expiresAt - c.issuedAt <= SESSION_TOKEN_MAX_TTL_MS
  );
}
