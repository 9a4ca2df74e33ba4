/**
 * API keys for tenants' programmatic access, shaped `tm_<keyId>_<secret>`:
 * - keyId: 12 characters of lower-case base32 (a–z, 2–7), 60 random bits; public, the lookup key and what
 *   the UI shows (see keyPrefix);
 * - secret: 32 characters of base62, ~190 random bits; shown once, stored only as hashApiKeySecret's output.
 * Neither part can contain `_`, so the token splits unambiguously, and it survives double-click selection.
 *
 * The stored hash is HMAC-SHA-256 under a server-side pepper, deliberately not a slow KDF: the secret is
 * random and long, so brute force is hopeless anyway, and the proxy checks keys on every request.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface ApiKey {
  keyId: string;
  secret: string;
  /** The whole `tm_<keyId>_<secret>` string handed to the user */
  token: string;
}

const PREFIX = "tm_";
const KEY_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const SECRET_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const TOKEN_FORMAT = /^tm_([a-z2-7]{12})_([0-9A-Za-z]{32})$/;
const MIN_PEPPER_BYTES = 32;

/** A new random key; the caller stores keyId and hashApiKeySecret(...) and shows `token` once */
export function generateApiKey(): ApiKey {
  const keyId = randomString(KEY_ID_ALPHABET, KEY_ID_LENGTH);
  const secret = randomString(SECRET_ALPHABET, SECRET_LENGTH);
  return { keyId, secret, token: `${PREFIX}${keyId}_${secret}` };
}

/** Splits a presented token; null unless it is exactly `tm_` + 12 base32 + `_` + 32 base62 characters */
export function parseApiKey(token: string): { keyId: string; secret: string } | null {
  const match = TOKEN_FORMAT.exec(token);
  if (match === null) return null;
  const [, keyId = "", secret = ""] = match;
  return { keyId, secret };
}

/** The non-secret part of a token for display and logs, `tm_<keyId>_…`; null for a malformed token */
export function keyPrefix(token: string): string | null {
  const parsed = parseApiKey(token);
  return parsed === null ? null : `${PREFIX}${parsed.keyId}_…`;
}

/**
 * HMAC-SHA-256(pepper, keyId + ":" + secret) as 64 hex characters. Binding keyId into the MAC means a stored
 * hash is only valid for its own key id. The pepper (≥ 32 bytes) lives in configuration, not the database.
 */
export function hashApiKeySecret(pepper: Buffer, keyId: string, secret: string): string {
  if (pepper.length < MIN_PEPPER_BYTES) throw new RangeError(`API key pepper must be at least ${MIN_PEPPER_BYTES} bytes`);
  return createHmac("sha256", pepper).update(`${keyId}:${secret}`).digest("hex");
}

/** Constant-time check of a presented secret against the stored hash; false for a malformed stored hash */
export function verifyApiKeySecret(pepper: Buffer, keyId: string, secret: string, storedHash: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(storedHash)) return false;
  const expected = Buffer.from(hashApiKeySecret(pepper, keyId, secret), "hex");
  return timingSafeEqual(expected, Buffer.from(storedHash, "hex"));
}

/** `length` characters drawn uniformly from `alphabet` (≤ 256 symbols), by rejection sampling to avoid bias */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}
