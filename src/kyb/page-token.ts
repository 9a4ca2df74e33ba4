/**
 * Opaque ListBusinesses page tokens: base64url of `{v, c, i}`, the (created_at, id) keyset of the page's last
 * row. A token only names a position; row-level security decides what is visible from it, so a token carried
 * to another tenant shows that tenant nothing of the first. An edited or foreign token is INVALID_ARGUMENT.
 */
import { isUuid } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";

/** The keyset of a page: the last row's created_at (as PostgreSQL text, microseconds intact) and id */
export interface BusinessCursor {
  readonly createdAt: string;
  readonly id: string;
}

export function encodePageToken(cursor: BusinessCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, c: cursor.createdAt, i: cursor.id })).toString("base64url");
}

/** The cursor in `token`; undefined for "" (the first page) */
export function decodePageToken(token: string): BusinessCursor | undefined {
  if (token === "") return undefined;
  const bad = invalidArgument([{ field: "page_token", description: "is not a page token of this listing" }]);
  if (token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  if (typeof value !== "object" || value === null) throw bad;
  const { v, c, i } = value as Record<string, unknown>;
  if (v !== 1 || typeof c !== "string" || typeof i !== "string" || !isUuid(i)) throw bad;
  // The timestamp goes back to PostgreSQL as a bind parameter; only its shape is checked here.
  if (c.length > 64 || !/^\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}(:?\d{2})?|Z)?$/.test(c)) throw bad;
  return { createdAt: c, id: i };
}
