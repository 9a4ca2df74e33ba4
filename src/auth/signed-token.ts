/**
 * The codec shared by session and service tokens: `<prefix><base64url(JSON payload)>.<base64url(MAC)>`, the MAC
 * being HMAC-SHA-256 over the prefix and the encoded payload. Each token kind has its own prefix AND its own
 * `typ` claim, both covered by the MAC and both checked, so one kind is never accepted as another.
 *
 * Rotation: a verifier holds a list of secrets and a signer uses the first. Each payload names the signing
 * secret by `kid`, derived from the secret itself (an HMAC of a fixed label), so operators configure only the
 * secrets: add the new one first, keep the old one until its tokens have expired, then drop it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** One signing secret (≥ 32 bytes), or a rotation list whose first entry signs */
export type TokenSecrets = Uint8Array | readonly Uint8Array[];

/** Why a token was refused: unreadable or not of the asked-for kind; not signed by any held secret; too old */
export type TokenFailure = "malformed" | "bad_signature" | "expired";

export type TokenVerification<C> = { ok: true; claims: C } | { ok: false; reason: TokenFailure };

/** A token kind: the prefix on the wire and the `typ` claim inside */
export interface TokenKind {
  prefix: string;
  typ: string;
}

/** How far in the future an issued-at may lie before the token is refused, to absorb clock skew */
export const MAX_CLOCK_SKEW_MS = 60_000;

const MIN_SECRET_BYTES = 32;
const MAX_TOKEN_LENGTH = 4096;
const MAC_LENGTH = 43; // 32 bytes, base64url unpadded
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Signs `claims` with the first of `secrets`; a `typ` or `kid` among the claims is overwritten */
export function sealToken(kind: TokenKind, secrets: TokenSecrets, claims: object): string {
  const [secret] = checkSecrets(secrets);
  // typ and kid last, so no claim can override them
  const payload = Buffer.from(JSON.stringify({ ...claims, typ: kind.typ, kid: tokenKeyId(secret) })).toString("base64url");
  return `${kind.prefix}${payload}.${mac(secret, kind.prefix, payload).toString("base64url")}`;
}

/**
 * Checks a token's shape, kind and MAC, and returns its payload without `typ` and `kid` for the caller to
 * validate. Never throws on untrusted input; throws only on a misconfigured secret list.
 */
export function openToken(
  kind: TokenKind,
  secrets: TokenSecrets,
  token: string,
): { ok: true; payload: Record<string, unknown> } | { ok: false; reason: "malformed" | "bad_signature" } {
  const held = checkSecrets(secrets);
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(kind.prefix)) return { ok: false, reason: "malformed" };
  const parts = token.slice(kind.prefix.length).split(".");
  const [payload = "", signature = ""] = parts;
  if (parts.length !== 2 || !BASE64URL.test(payload) || signature.length !== MAC_LENGTH || !BASE64URL.test(signature)) {
    return { ok: false, reason: "malformed" };
  }
  const decoded = parseObject(Buffer.from(payload, "base64url").toString("utf8"));
  if (decoded === null) return { ok: false, reason: "malformed" };
  const { typ, kid, ...rest } = decoded;
  if (typ !== kind.typ || typeof kid !== "string") return { ok: false, reason: "malformed" };

  const secret = held.find((candidate) => tokenKeyId(candidate) === kid);
  const given = Buffer.from(signature, "base64url");
  // Re-encoding must give the same text, or two spellings of one MAC would both be accepted.
  if (secret === undefined || given.toString("base64url") !== signature) return { ok: false, reason: "bad_signature" };
  if (!timingSafeEqual(given, mac(secret, kind.prefix, payload))) return { ok: false, reason: "bad_signature" };
  return { ok: true, payload: rest };
}

/** The `kid` naming a secret in the tokens it signs: 8 base64url characters, revealing nothing of the secret */
export function tokenKeyId(secret: Uint8Array): string {
  return createHmac("sha256", secret).update("tenantmesh token key id").digest("base64url").slice(0, 8);
}

function mac(secret: Uint8Array, prefix: string, payload: string): Buffer {
  return createHmac("sha256", secret).update(`${prefix}${payload}`).digest();
}

function checkSecrets(secrets: TokenSecrets): readonly [Uint8Array, ...Uint8Array[]] {
  const [first, ...others] = secrets instanceof Uint8Array ? [secrets] : secrets;
  if (first === undefined) throw new RangeError("at least one token secret is needed");
  const list = [first, ...others] as const;
  if (list.some((s) => s.length < MIN_SECRET_BYTES)) throw new RangeError(`token secrets must be at least ${MIN_SECRET_BYTES} bytes`);
  return list;
}

function parseObject(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
