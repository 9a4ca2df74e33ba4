/**
 * Opaque page tokens for every List RPC: base64url of `{v, p, f}` — the keyset position `p` after the page's last
 * row, and `f`, a digest of the filters the token was issued for. A token replayed with other filters, edited or
 * made up is INVALID_ARGUMENT, never a silently wrong page. Not a secret: a position inside data the caller may
 * read anyway (row-level security decides what is visible from it).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { invalidArgument } from "../errors/index.js";

const fingerprint = (filters: readonly unknown[]): string =>
  createHash("sha256").update(JSON.stringify(filters)).digest("base64url").slice(0, 16);

/** A token for the page after `position`, bound to `filters` */
export function encodePageToken(position: object, filters: readonly unknown[] = []): string {
  return Buffer.from(JSON.stringify({ v: 1, p: position, f: fingerprint(filters) })).toString("base64url");
}

/** The position in `token` if it was issued for these filters and matches `schema`; INVALID_ARGUMENT otherwise */
export function decodePageToken<S extends z.ZodType>(token: string, schema: S, filters: readonly unknown[] = []): z.infer<S> {
  const bad = invalidArgument([{ field: "page_token", description: "is not a page token of this listing" }]);
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  if (typeof value !== "object" || value === null) throw bad;
  const { v, p, f } = value as Record<string, unknown>;
  if (v !== 1 || f !== fingerprint(filters)) throw bad;
  const parsed = schema.safeParse(p);
  if (!parsed.success) throw bad;
  return parsed.data;
}

/**
 * The usual keyset: the last row's created_at, as PostgreSQL text with its microseconds intact (it goes back as a
 * bind parameter, so only its shape is checked), and its id.
 */
export const createdAtIdCursor = z.object({
  createdAt: z.string().max(64).regex(/^\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}(:?\d{2})?|Z)?$/),
  id: z.uuid(),
});
export type CreatedAtIdCursor = z.infer<typeof createdAtIdCursor>;
