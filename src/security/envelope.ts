/**
 * The ciphertext format of tenant data, and the AES-256-GCM that makes it. Binary layout (version 1):
 *
 *   0x01 | key version (uint32 BE) | IV (12 random bytes) | ciphertext | GCM tag (16)
 *
 * The associated data is `"tmenc1" | tenant id (16 bytes) | key version | caller context`: the tag then only
 * verifies for the tenant, key version and context it was made for, so tenant A's ciphertext never decrypts as
 * B's (even with B's key of the same version), and a value moved to another row or field (another context)
 * fails too. The prefix is fixed-length, so tenant, version and context cannot be confused with each other.
 *
 * Text form for database columns and the API: `tmenc:v<version>:<base64url>`; the version stays readable, as in
 * Vault's `vault:v1:…`, so an operator can see which ciphertexts still need a rewrap before retiring a version.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const FORMAT_V1 = 0x01;
const HEADER_BYTES = 5;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes a ciphertext adds to its plaintext */
export const OVERHEAD_BYTES = HEADER_BYTES + IV_BYTES + TAG_BYTES;
const AAD_LABEL = Buffer.from("tmenc1", "ascii");
const TEXT_PREFIX = "tmenc:v";
const TEXT_FORM = /^tmenc:v(\d{1,10}):([A-Za-z0-9_-]+)$/;

/** The fixed part of the associated data for one tenant and key version (computed once per loaded key) */
export function aadPrefix(tenantId: string, version: number): Buffer {
  const out = Buffer.alloc(AAD_LABEL.length + 16 + 4);
  AAD_LABEL.copy(out, 0);
  Buffer.from(tenantId.replaceAll("-", ""), "hex").copy(out, AAD_LABEL.length);
  out.writeUInt32BE(version, AAD_LABEL.length + 16);
  return out;
}

/** Encrypts `plaintext` under one data key; `prefix` from aadPrefix(tenant, version) */
export function seal(key: Buffer, version: number, prefix: Buffer, context: Buffer, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  // Two AAD updates are the same as one over the concatenation (GCM hashes AAD as a stream): no copy needed.
  cipher.setAAD(prefix);
  cipher.setAAD(context);
  const body = cipher.update(plaintext);
  const last = cipher.final();
  const out = Buffer.allocUnsafe(OVERHEAD_BYTES + body.length + last.length);
  out[0] = FORMAT_V1;
  out.writeUInt32BE(version, 1);
  iv.copy(out, HEADER_BYTES);
  body.copy(out, HEADER_BYTES + IV_BYTES);
  last.copy(out, HEADER_BYTES + IV_BYTES + body.length);
  cipher.getAuthTag().copy(out, out.length - TAG_BYTES);
  return out;
}

/** The key version a ciphertext names, or undefined when it is not one of ours */
export function versionOf(ciphertext: Buffer): number | undefined {
  if (ciphertext.length < OVERHEAD_BYTES || ciphertext[0] !== FORMAT_V1) return undefined;
  const version = ciphertext.readUInt32BE(1);
  return version >= 1 ? version : undefined;
}

/** Decrypts, or returns undefined when the tag does not verify (wrong tenant, context, key or altered bytes) */
export function open(key: Buffer, prefix: Buffer, context: Buffer, ciphertext: Buffer): Buffer | undefined {
  if (versionOf(ciphertext) === undefined) return undefined;
  const iv = ciphertext.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(prefix);
  decipher.setAAD(context);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
  const body = decipher.update(ciphertext.subarray(HEADER_BYTES + IV_BYTES, ciphertext.length - TAG_BYTES));
  try {
    const last = decipher.final();
    return last.length === 0 ? body : Buffer.concat([body, last]);
  } catch {
    return undefined;
  }
}

/** `tmenc:v<version>:<base64url>` */
export function toText(ciphertext: Buffer): string {
  return `${TEXT_PREFIX}${versionOf(ciphertext) ?? 0}:${ciphertext.toString("base64url")}`;
}

/** The binary ciphertext of a text form; undefined when malformed or when the two versions disagree */
export function fromText(text: string): Buffer | undefined {
  const match = TEXT_FORM.exec(text);
  if (match === null) return undefined;
  const bytes = Buffer.from(match[2] ?? "", "base64url");
  return versionOf(bytes) === Number(match[1]) ? bytes : undefined;
}

/** True for a value in the text form (a stored column that was encrypted, not legacy plaintext) */
export const isSealedText = (value: string): boolean => value.startsWith(TEXT_PREFIX);

/** Wraps (or unwraps) key material with AES-256-GCM under a wrapping key: `IV | ciphertext | tag` */
export function wrapKey(wrappingKey: Buffer, material: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", wrappingKey, iv);
  cipher.setAAD(aad);
  return Buffer.concat([iv, cipher.update(material), cipher.final(), cipher.getAuthTag()]);
}

/** The material wrapped by wrapKey, or undefined when the key or the associated data is wrong */
export function unwrapKey(wrappingKey: Buffer, wrapped: Buffer, aad: Buffer): Buffer | undefined {
  if (wrapped.length < IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv("aes-256-gcm", wrappingKey, wrapped.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
