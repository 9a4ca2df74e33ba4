/**
 * RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s step, 6 digits by default), the variant every
 * authenticator app supports.
 *
 * Replay protection is the caller's job: a code stays valid for its whole step (and the window around it), so
 * after a successful verifyTotp the caller stores the returned counter with the user and passes it back as
 * `lastUsedCounter` next time; codes from that step or earlier are then refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { base32Decode, base32Encode } from "./base32.js";

export interface TotpOptions {
  /** Code length, 6–10 digits; default 6 */
  digits?: number;
  /** Time step in seconds; default 30 */
  stepSeconds?: number;
}

export interface VerifyTotpOptions extends TotpOptions {
  /** Steps accepted either side of the current one, to allow for clock drift and typing time; default 1, max 10 */
  window?: number;
  /** The counter returned by the last successful verification for this secret; it and earlier steps are refused */
  lastUsedCounter?: number;
}

const SECRET_BYTES = 20; // RFC 4226 §4 R6: at least 128 bits, 160 recommended

/** A new random 160-bit secret, base32 without padding, for storing and for the otpauth URI */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES), { pad: false });
}

/** The time-step counter that `timeMs` falls in */
export function totpCounter(timeMs: number, { stepSeconds = 30 }: TotpOptions = {}): number {
  return Math.floor(timeMs / 1000 / stepSeconds);
}

/** The code for the step containing `timeMs`. Throws on a secret that is not base32: stored secrets are ours. */
export function totpCode(secret: string, timeMs: number, options: TotpOptions = {}): string {
  return hotp(decodeSecret(secret), totpCounter(timeMs, options), checkDigits(options.digits));
}

/**
 * Checks a code typed by a user against the steps around `timeMs`. Returns the matched counter (store it, see
 * the module comment) or null for a wrong, expired, replayed or malformed code. Every candidate is compared
 * in constant time, and all of them are compared, so timing does not reveal which step matched.
 */
export function verifyTotp(secret: string, code: string, timeMs: number, options: VerifyTotpOptions = {}): number | null {
  const digits = checkDigits(options.digits);
  const window = options.window ?? 1;
  if (!Number.isInteger(window) || window < 0 || window > 10) throw new RangeError(`window must be 0–10, got ${window}`);
  const key = decodeSecret(secret);
  if (code.length !== digits || !/^\d+$/.test(code)) return null;

  const given = Buffer.from(code);
  const current = totpCounter(timeMs, options);
  let matched: number | null = null;
  for (let counter = current - window; counter <= current + window; counter++) {
    if (counter < 0) continue;
    const equal = timingSafeEqual(given, Buffer.from(hotp(key, counter, digits)));
    const fresh = options.lastUsedCounter === undefined || counter > options.lastUsedCounter;
    if (equal && fresh && matched === null) matched = counter;
  }
  return matched;
}

/** The `otpauth://` URI that authenticator apps read from a QR code (Google Authenticator key URI format) */
export function otpauthUri({ issuer, account, secret }: { issuer: string; account: string; secret: string }): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: secret.replace(/=+$/, ""),
    issuer,
    algorithm: "SHA1",
    digits: "6",
    period: "30",
  });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, "%20")}`;
}

/** RFC 4226 HOTP: HMAC-SHA1 of the 8-byte big-endian counter, dynamically truncated to `digits` digits */
function hotp(key: Buffer, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", key).update(message).digest();
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

function decodeSecret(secret: string): Buffer {
  const key = base32Decode(secret);
  if (key === null || key.length === 0) throw new TypeError("TOTP secret is not valid base32");
  return key;
}

function checkDigits(digits = 6): number {
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new RangeError(`digits must be 6–10, got ${digits}`);
  return digits;
}
