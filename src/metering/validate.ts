import { createHash } from "node:crypto";
import { isUuid } from "../db/index.js";
import { invalidArgument, type FieldViolation } from "../errors/index.js";
import { encodeEvents } from "./codec.js";
import { isMeteredResourceType, meteredResourceTypes, type UsageEvent } from "./resources.js";

/** Events per RecordUsage batch at most (senders split larger flushes into several batches) */
export const MAX_BATCH_EVENTS = 500;
/** Clocks drift: an event may be stamped up to this far ahead of the receiver's clock */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Older than this is a broken clock, not late usage */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
/** Violations reported per batch at most: enough to fix a sender, bounded for the error message */
const MAX_VIOLATIONS = 20;

/** A RecordUsage batch as decoded from the wire (int64 as decimal strings) */
export interface WireBatch {
  batchId: string;
  source: string;
  events: ReadonlyArray<{ tenantId: string; resourceType: string; amount: string; occurredAt: Date | undefined }>;
}

/** A batch that passed validation, with the digest that tells a replay from a reuse of its id */
export interface ValidBatch {
  batchId: string;
  source: string;
  events: UsageEvent[];
  /** The events in their journal form (codec.ts) */
  payload: Buffer;
  /** SHA-256 of the payload: the same id with other events is a sender bug, not a replay */
  digest: string;
}

/**
 * Validates a whole batch or rejects it: every bad event is named as `events[i].field`, so a sender can find
 * it. Hand-written rather than zod: it runs on every event of the ingestion hot path.
 */
export function validateBatch(batch: WireBatch, nowMs: number): ValidBatch {
  const violations: FieldViolation[] = [];
  const add = (field: string, description: string): void => {
    if (violations.length < MAX_VIOLATIONS) violations.push({ field, description });
  };
  if (!/^[\x21-\x7e]{1,128}$/.test(batch.batchId)) add("batch_id", "must be 1-128 printable ASCII characters without spaces");
  if (batch.source.length > 100) add("source", "must be at most 100 characters");
  if (batch.events.length === 0) add("events", "must hold at least one event");
  if (batch.events.length > MAX_BATCH_EVENTS) add("events", `must hold at most ${MAX_BATCH_EVENTS} events`);
  const events: UsageEvent[] = [];
  const latest = nowMs + MAX_FUTURE_SKEW_MS;
  for (let i = 0; i < batch.events.length; i++) {
    const e = batch.events[i] as WireBatch["events"][number];
    let ok = true;
    const tenantId = canonicalTenantId(e.tenantId);
    if (tenantId === undefined) (ok = false), add(eventField(i, "tenant_id"), "must be a UUID");
    if (!isMeteredResourceType(e.resourceType)) (ok = false), add(eventField(i, "resource_type"), `must be one of ${meteredResourceTypes.join(", ")}`);
    const amount = parseAmount(e.amount);
    if (typeof amount === "string") (ok = false), add(eventField(i, "amount"), amount);
    const ms = e.occurredAt?.getTime();
    if (ms === undefined || Number.isNaN(ms)) (ok = false), add(eventField(i, "occurred_at"), "is required");
    else if (ms > latest) (ok = false), add(eventField(i, "occurred_at"), "is more than 5 minutes in the future");
    else if (ms < EARLIEST_MS) (ok = false), add(eventField(i, "occurred_at"), "is before 2000-01-01");
    if (!ok || violations.length > 0) continue;
    events.push({ tenantId: tenantId as string, resourceType: e.resourceType as UsageEvent["resourceType"], amount: amount as number, occurredAt: e.occurredAt as Date });
  }
  if (violations.length > 0) throw invalidArgument(violations);
  const payload = encodeEvents(events);
  return { batchId: batch.batchId, source: batch.source, events, payload, digest: createHash("sha256").update(payload).digest("hex") };
}

/** `events[i].field`: only built for a violation */
const eventField = (i: number, field: string): string => `events[${i}].${field}`;

/**
 * Tenant ids as sent → their canonical (lower-case) form, for ids that passed the UUID check. Senders name the
 * same few thousand tenants in every batch: the pattern test and the lower-casing run once per id, not per
 * event. Bounded (cleared when full) so a sender cycling through ids cannot grow it.
 */
const canonicalIds = new Map<string, string>();
const MAX_CACHED_IDS = 50_000;

function canonicalTenantId(raw: string): string | undefined {
  const known = canonicalIds.get(raw);
  if (known !== undefined || !isUuid(raw)) return known;
  if (canonicalIds.size >= MAX_CACHED_IDS) canonicalIds.clear();
  const id = raw.toLowerCase();
  canonicalIds.set(raw, id);
  return id;
}

/** A whole number ≥ 0 that fits a double exactly, or why not */
function parseAmount(raw: string): number | string {
  // Up to 15 decimal digits is always below 2^53: summed digit by digit, exactly, without the pattern.
  if (raw.length > 0 && raw.length <= 15) {
    let n = 0;
    for (let i = 0; i < raw.length && n >= 0; i++) {
      const digit = raw.charCodeAt(i) - 48;
      n = digit >= 0 && digit <= 9 ? n * 10 + digit : -1;
    }
    if (n >= 0) return n;
  }
  if (!/^-?\d{1,20}$/.test(raw)) return "must be a whole number";
  if (raw.startsWith("-") && raw !== "-0") return "must not be negative";
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return "is too large";
  return Math.abs(n);
}
