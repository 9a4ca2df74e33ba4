/**
 * Password hashing with scrypt (memory-hard, in node:crypto), stored as a self-describing string
 *
 *   scrypt$ln=15,r=8,p=1$<salt, base64 unpadded>$<hash, base64 unpadded>
 *
 * in the style of the PHC string format, so parameters can be raised later: verifyPassword reads them from
 * the stored string, needsRehash says when a login should re-hash with the current ones. About 90 characters,
 * well inside the users.password_hash VARCHAR(255).
 *
 * Cost: N = 2^15, r = 8 needs 32 MiB and took ~60 ms per hash on the 2-core development machine; scrypt runs on
 * the libuv thread pool, so the event loop is not blocked.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { FieldViolation } from "../errors/index.js";

interface ScryptParams {
  /** log2 of the CPU/memory cost N */
  ln: number;
  r: number;
  p: number;
}

interface Decoded extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

const CURRENT: ScryptParams = { ln: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/**
 * Stored strings asking for more work than N·r·p = 2^21 (8× today's cost: 256 MiB or ~0.5 s) are treated as
 * garbled rather than allowed to exhaust memory or CPU; raise it when CURRENT is raised.
 */
const MAX_WORK = 2 ** 21;
const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{22,86})$/;

/** Hashes a password with a fresh salt and the current parameters. The password is NFKC-normalised first. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, CURRENT, HASH_BYTES);
  return `scrypt$ln=${CURRENT.ln},r=${CURRENT.r},p=${CURRENT.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * True when `password` matches `encoded`. Returns false, and never throws, for a wrong password and for an
 * unknown, garbled or absurdly expensive encoding.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const decoded = decode(encoded);
  if (decoded === null) return false;
  try {
    const candidate = await derive(password, decoded.salt, decoded, decoded.hash.length);
    return timingSafeEqual(candidate, decoded.hash);
  } catch {
    return false;
  }
}

/** True when `encoded` was made with other parameters than hashPassword uses now (or cannot be read) */
export function needsRehash(encoded: string): boolean {
  const decoded = decode(encoded);
  return (
    decoded === null ||
    decoded.ln !== CURRENT.ln ||
    decoded.r !== CURRENT.r ||
    decoded.p !== CURRENT.p ||
    decoded.salt.length !== SALT_BYTES ||
    decoded.hash.length !== HASH_BYTES
  );
}

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * A deliberately modest policy, following NIST SP 800-63B in favouring length over composition rules:
 * - 12 to 256 characters (Unicode code points, after NFKC normalisation);
 * - not made only of one character class (lower-case letters, upper-case letters, digits, or anything else),
 *   which rules out "aaaaaaaaaaaa" and "123456789012" without demanding symbols;
 * - no control characters, which are never typed on purpose.
 * Returns one violation per broken rule, on the field `password`; an empty list means acceptable.
 */
export function checkPasswordPolicy(password: string): FieldViolation[] {
  const chars = [...password.normalize("NFKC")];
  const violations: FieldViolation[] = [];
  const violate = (description: string): void => void violations.push({ field: "password", description });

  if (chars.length < PASSWORD_MIN_LENGTH) violate(`must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (chars.length > PASSWORD_MAX_LENGTH) violate(`must be at most ${PASSWORD_MAX_LENGTH} characters`);
  if (chars.some((ch) => /\p{Cc}/u.test(ch))) violate("must not contain control characters");
  const classes = new Set(chars.map(characterClass));
  if (classes.size === 1) violate("must not consist of only letters of one case, only digits or only symbols");
  return violations;
}

function characterClass(ch: string): "lower" | "upper" | "digit" | "other" {
  if (/\p{Ll}/u.test(ch)) return "lower";
  if (/\p{Lu}/u.test(ch)) return "upper";
  if (/\p{Nd}/u.test(ch)) return "digit";
  return "other";
}

function decode(encoded: string): Decoded | null {
  const match = FORMAT.exec(encoded);
  if (match === null) return null;
  const [, ln = "", r = "", p = "", salt = "", hash = ""] = match;
  const params = { ln: Number(ln), r: Number(r), p: Number(p) };
  if (params.ln < 1 || params.r < 1 || params.p < 1 || 2 ** params.ln * params.r * params.p > MAX_WORK) return null;
  const saltBytes = Buffer.from(salt, "base64");
  const hashBytes = Buffer.from(hash, "base64");
  // Reject non-canonical base64 so each stored string has exactly one reading.
  if (b64(saltBytes) !== salt || b64(hashBytes) !== hash) return null;
  return { ...params, salt: saltBytes, hash: hashBytes };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** params.ln, r: params.r, p: params.p, maxmem: memoryFor(params) + 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** scrypt's working memory as OpenSSL counts it: 128·r·(N + 2) for V plus 128·r·p for B */
function memoryFor({ ln, r, p }: ScryptParams): number {
  return 128 * r * (2 ** ln + 2 + p);
}

function b64(bytes: Buffer): string {
  return bytes.toString("base64").replace(/=+$/, "");
}
