/**
 * Single-use tokens, e.g. for password reset links: 256 random bits as 43 base64url characters. Only the
 * SHA-256 of a token is stored (users.password_reset_token), so a database leak yields no usable links; a
 * plain hash suffices because the token is random and long. Single use is the caller's part: clear the stored
 * hash in the same transaction that consumes it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "./clock.js";

/** How long a reset link works unless told otherwise */
export const ONE_TIME_TOKEN_TTL_MS = 30 * 60_000;

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** A new token to send, and the hash to store */
export function generateOneTimeToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashOneTimeToken(token) };
}

/** SHA-256 of the token as 64 hex characters: the stored form, and the lookup key for a presented token */
export function hashOneTimeToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** When a token issued now stops working */
export function oneTimeTokenExpiresAt(clock: Clock, ttlMs = ONE_TIME_TOKEN_TTL_MS): number {
  return clock.now() + ttlMs;
}

/**
 * Checks a presented token against the stored hash and expiry (ms since the epoch, or a Date as read from a
 * TIMESTAMP column). The hash compare is constant time; a token of the wrong shape is `invalid` unhashed.
 */
export function checkOneTimeToken(
  token: string,
  stored: { hash: string; expiresAt: number | Date },
  clock: Clock,
): { ok: true } | { ok: false; reason: "invalid" | "expired" } {
  if (!TOKEN_FORMAT.test(token) || !/^[0-9a-f]{64}$/.test(stored.hash)) return { ok: false, reason: "invalid" };
  const presented = Buffer.from(hashOneTimeToken(token), "hex");
  if (!timingSafeEqual(presented, Buffer.from(stored.hash, "hex"))) return { ok: false, reason: "invalid" };
  if (isOneTimeTokenExpired(stored.expiresAt, clock)) return { ok: false, reason: "expired" };
  return { ok: true };
}

/** True once `expiresAt` has been reached */
export function isOneTimeTokenExpired(expiresAt: number | Date, clock: Clock): boolean {
  const expiry = typeof expiresAt === "number" ? expiresAt : expiresAt.getTime();
  return !(clock.now() < expiry); // NaN (an invalid Date) counts as expired
}
