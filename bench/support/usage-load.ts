/**
 * The metering benchmark's load, generated on demand (a million event objects would not fit comfortably in
 * memory): event i is a pure function of i, so a batch can be built again for its replay, and the expected
 * rollups are summed from the same function.
 */
import type { UsageEvent } from "../../src/gen/tenantmesh/v1/quota.js";

export const benchResourceTypes = ["api_calls", "compute", "storage", "businesses"] as const;

export interface LoadShape {
  tenants: readonly string[];
  hours: number;
  events: number;
  /** Start of the first hour (epoch ms, hour-aligned) */
  startMs: number;
}

const HOUR_MS = 3_600_000;

/** A multiplicative hash: spreads consecutive ints over [0, n) without a table */
const spread = (i: number, n: number): number => Number((BigInt(i) * 2654435761n) % BigInt(n));

/**
 * Event i: time runs forward (events come in the order they happened, as a metering stream does), and inside each
 * hour the events walk every (tenant, resource type) cell in a scrambled order, so every cell of every hour gets
 * its share and one batch touches hundreds of distinct cells: no batch is conveniently pre-sorted by tenant.
 */
export function eventAt(shape: LoadShape, i: number): { tenant: string; resource: (typeof benchResourceTypes)[number]; amount: number; atMs: number } {
  const perHour = shape.events / shape.hours;
  const hour = Math.min(shape.hours - 1, Math.floor(i / perHour));
  const j = i - Math.ceil(hour * perHour);
  const cells = shape.tenants.length * benchResourceTypes.length;
  const cell = spread(j + hour, cells);
  const tenant = shape.tenants[cell % shape.tenants.length] as string;
  const resource = benchResourceTypes[Math.floor(cell / shape.tenants.length)] as (typeof benchResourceTypes)[number];
  // One usage occurrence each: a call, one request's backend time, one stored document, one business.
  const amount = resource === "api_calls" || resource === "businesses" ? 1 : resource === "compute" ? 1 + spread(i, 500) : 200 + spread(i, 4_000);
  const atMs = shape.startMs + hour * HOUR_MS + spread(i * 7 + 3, HOUR_MS);
  return { tenant, resource, amount, atMs };
}

/** Batch k (events [k·size, (k+1)·size)) as the wire message's events */
export function batchEvents(shape: LoadShape, k: number, size: number): UsageEvent[] {
  const out: UsageEvent[] = [];
  const end = Math.min(shape.events, (k + 1) * size);
  for (let i = k * size; i < end; i++) {
    const e = eventAt(shape, i);
    out.push({ tenantId: e.tenant, resourceType: e.resource, amount: String(e.amount), occurredAt: new Date(e.atMs) });
  }
  return out;
}

/** The rollups the load must produce: `tenant|resource|granularity|periodMs` → amount */
export function expectedRollups(shape: LoadShape): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, n: number): void => void out.set(key, (out.get(key) ?? 0) + n);
  for (let i = 0; i < shape.events; i++) {
    const e = eventAt(shape, i);
    const d = new Date(e.atMs);
    add(`${e.tenant}|${e.resource}|hour|${Math.floor(e.atMs / HOUR_MS) * HOUR_MS}`, e.amount);
    add(`${e.tenant}|${e.resource}|day|${Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())}`, e.amount);
    add(`${e.tenant}|${e.resource}|month|${Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)}`, e.amount);
  }
  return out;
}
