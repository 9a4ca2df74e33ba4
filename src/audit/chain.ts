/**
 * The hash chain of a tenant's audit log. Each event's hash covers its own fields and the previous event's
 * hash (the first event's "previous" is 64 zeros), so changing, removing or reordering any event breaks every
 * link after it. Anyone with the rows can check the links; but a database superuser could also recompute all
 * of them after an edit, so each hash is also MACed under a key held outside the database (the KeyStore's
 * audit key): a rewritten chain has links that hold and MACs that do not.
 *
 * The hashed form is canonical JSON (keys sorted at every depth), computed the same way on append and on
 * verify from the values as the database returns them; times are stored and hashed at millisecond precision.
 */
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);
const CHAIN_VERSION = "tm-audit/1";

/** JSON with object keys sorted at every depth: one text per value, whatever order the keys came in */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The fields a link covers */
export interface LinkFields {
  tenantId: string;
  seq: number;
  occurredAt: Date;
  actor: string;
  action: string;
  outcome: string;
  target: string;
  requestId: string;
  detail: Record<string, unknown>;
  prevHash: string;
}

export function linkHash(f: LinkFields): string {
  const text = canonicalJson([
    CHAIN_VERSION,
    f.tenantId,
    f.seq,
    f.occurredAt.toISOString(),
    f.actor,
    f.action,
    f.outcome,
    f.target,
    f.requestId,
    f.detail,
    f.prevHash,
  ]);
  return createHash("sha256").update(text).digest("hex");
}

/** What the MAC covers: the hash binds everything else already */
export const macInput = (tenantId: string, seq: number, hash: string): Buffer => Buffer.from(`${CHAIN_VERSION}|${tenantId}|${seq}|${hash}`);

/**
 * Makes a detail storable and hashable as is: JSON round trip (drops undefined, functions; Dates become
 * strings) and NUL characters removed (JSONB refuses them), so the value hashed is the value stored.
 */
export function normalizeDetail(detail: Record<string, unknown> | undefined): Record<string, unknown> {
  if (detail === undefined) return {};
  return JSON.parse(JSON.stringify(detail), (_key, value: unknown) => (typeof value === "string" ? value.replaceAll("\0", "") : value)) as Record<
    string,
    unknown
  >;
}
