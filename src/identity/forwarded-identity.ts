import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The tenant identity the proxy forwards to backends, signed so a backend trusts it only from the proxy:
 * a request sent straight to a backend with a forged `x-tenant-id` fails verification.
 *
 * Headers (HTTP and gRPC metadata alike):
 *   x-tenant-id         the verified tenant
 *   x-tenant-principal  who inside the tenant (`api_key:<key id>` or `user:<user id>`)
 *   x-request-id        the proxy's request id
 *   x-tenant-identity   `v1.<issued at ms>.<base64url HMAC-SHA-256>` over all of the above
 * A signature is accepted for `maxAgeMs` (default 60 s) around the backend's clock; replay inside that window
 * is possible for whoever can read the proxy→backend traffic, which is why that hop belongs on a private network.
 */
export const identityHeaders = {
  tenantId: "x-tenant-id",
  principal: "x-tenant-principal",
  requestId: "x-request-id",
  signature: "x-tenant-identity",
} as const;

export interface ForwardedIdentity {
  tenantId: string;
  principal: string;
  requestId: string;
}

const VERSION = "v1";

function mac(secret: Buffer, id: ForwardedIdentity, issuedAt: number): Buffer {
  return createHmac("sha256", secret)
    .update(`${VERSION}\n${id.tenantId}\n${id.principal}\n${id.requestId}\n${issuedAt}`)
    .digest();
}

/** The signature header's value for `id`, issued at `nowMs` */
export function signIdentity(secret: Buffer, id: ForwardedIdentity, nowMs: number): string {
  return `${VERSION}.${nowMs}.${mac(secret, id, nowMs).toString("base64url")}`;
}

export type IdentityCheck = { ok: true; identity: ForwardedIdentity } | { ok: false; reason: string };

type HeaderValue = string | string[] | undefined;
const single = (v: HeaderValue): string | undefined => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);

/** Checks the forwarded identity headers; any missing, repeated, stale or forged value fails */
export function verifyIdentity(
  secret: Buffer,
  headers: Record<string, HeaderValue>,
  nowMs: number,
  maxAgeMs = 60_000,
): IdentityCheck {
  const tenantId = single(headers[identityHeaders.tenantId]);
  const principal = single(headers[identityHeaders.principal]);
  const requestId = single(headers[identityHeaders.requestId]);
  const signature = single(headers[identityHeaders.signature]);
  if (!tenantId || !principal || !requestId || !signature) return { ok: false, reason: "missing forwarded identity" };
  const parts = signature.split(".");
  if (parts.length !== 3 || parts[0] !== VERSION || !/^\d{1,15}$/.test(parts[1] ?? "")) {
    return { ok: false, reason: "malformed identity signature" };
  }
  const issuedAt = Number(parts[1]);
  if (Math.abs(nowMs - issuedAt) > maxAgeMs) return { ok: false, reason: "stale identity signature" };
  const given = Buffer.from(parts[2] ?? "", "base64url");
  const identity = { tenantId, principal, requestId };
  const expected = mac(secret, identity, issuedAt);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "forged identity signature" };
  }
  return { ok: true, identity };
}
