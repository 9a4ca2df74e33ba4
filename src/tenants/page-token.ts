/**
 * Opaque ListTenants page tokens: base64url of `{v, c, i, f}`, the (created_at, id) keyset of the page's last
 * row and a fingerprint of the filters it was issued for. A token used with other filters, or edited, is
 * INVALID_ARGUMENT rather than a silently wrong page. Not a secret: operators may list every tenant anyway.
 */
import { createHash } from "node:crypto";
import { isUuid } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";
import type { TenantCursor } from "./store.js";

export interface TenantFilters {
  status: string;
  planType: string;
}

const fingerprint = (f: TenantFilters): string =>
  createHash("sha256").update(JSON.stringify([f.status, f.planType])).digest("base64url").slice(0, 16);

export function encodeTenantPageToken(cursor: TenantCursor, filters: TenantFilters): string {
  return Buffer.from(JSON.stringify({ v: 1, c: cursor.createdAt, i: cursor.id, f: fingerprint(filters) })).toString("base64url");
}

export function decodeTenantPageToken(token: string, filters: TenantFilters): TenantCursor {
  const bad = invalidArgument([{ field: "page_token", description: "is not a page token of this listing" }]);
  if (token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  if (typeof value !== "object" || value === null) throw bad;
  const { v, c, i, f } = value as Record<string, unknown>;
  if (v !== 1 || typeof c !== "string" || c.length > 64 || typeof i !== "string" || !isUuid(i) || f !== fingerprint(filters)) throw bad;
  // The timestamp goes back to PostgreSQL as a bind parameter; only its shape is checked here.
  if (!/^\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}(:?\d{2})?|Z)?$/.test(c)) throw bad;
  return { createdAt: c, id: i };
}
