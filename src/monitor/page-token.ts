import { invalidArgument } from "../errors/index.js";

/** A keyset position: the last row's timestamp (as PostgreSQL text, microseconds intact) and id */
export interface Cursor {
  at: string;
  id: string;
}

export const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.at, c.id])).toString("base64url");

/** Decodes a page token; an empty token is the first page; anything malformed is INVALID_ARGUMENT */
export function decodeCursor(token: string): Cursor | undefined {
  if (token === "") return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string" && /^[0-9a-f-]{36}$/i.test(value[1])) {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw invalidArgument([{ field: "page_token", description: "is not a token this service issued" }]);
}

/** A page size: 0 means the default; at most `max` */
export const pageSizeOf = (n: number, fallback = 50, max = 500): number => (n <= 0 ? fallback : Math.min(n, max));
