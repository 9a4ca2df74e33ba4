/**
 * Opaque ListUsers page tokens: base64url of `{v, after, f}` where `after` is the last email of the page (the
 * keyset position) and `f` a digest of the filters the token was issued for. A token replayed with other
 * filters, or edited, is INVALID_ARGUMENT rather than a silently wrong page. Not a secret: it only carries a
 * position inside data the caller may read anyway.
 */
import { createHash } from "node:crypto";
import { invalidArgument } from "../errors/index.js";

export interface PageFilters {
  tenantId: string;
  role: string;
  includeDeleted: boolean;
}

const fingerprint = (f: PageFilters): string =>
  createHash("sha256").update(JSON.stringify([f.tenantId, f.role, f.includeDeleted])).digest("base64url").slice(0, 16);

export function encodePageToken(afterEmail: string, filters: PageFilters): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterEmail, f: fingerprint(filters) })).toString("base64url");
}

/** The keyset position of a token issued for these filters; INVALID_ARGUMENT otherwise */
export function decodePageToken(token: string, filters: PageFilters): string {
  const bad = invalidArgument([{ field: "page_token", description: "is not a page token of this listing" }]);
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  if (typeof value !== "object" || value === null) throw bad;
  const { v, after, f } = value as Record<string, unknown>;
  if (v !== 1 || typeof after !== "string" || f !== fingerprint(filters)) throw bad;
  return after;
}
