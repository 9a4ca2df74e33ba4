import { z } from "zod";
import type { Tx } from "../db/index.js";
import { invalidArgument } from "../errors/index.js";
import type { GetUsageResponse } from "../gen/tenantmesh/v1/quota.js";
import { isGranularity, isMeteredResourceType, meteredResourceTypes, nextPeriod, periodStart, usageSeries, type Granularity } from "../metering/index.js";

const DAY_MS = 86_400_000;
/** Default look-back and widest range per granularity: bounds the rows one GetUsage may return */
const spans: Readonly<Record<Granularity, { defaultMs: number; maxMs: number }>> = {
  hour: { defaultMs: 2 * DAY_MS, maxMs: 31 * DAY_MS },
  day: { defaultMs: 30 * DAY_MS, maxMs: 366 * DAY_MS },
  month: { defaultMs: 365 * DAY_MS, maxMs: 10 * 366 * DAY_MS },
};

export const usageQuerySchema = z.object({
  resourceType: z
    .string()
    .refine((v) => v === "" || isMeteredResourceType(v), `must be empty or one of ${meteredResourceTypes.join(", ")}`)
    .transform((v) => (v === "" ? undefined : v)),
  granularity: z
    .string()
    .refine((v) => v === "" || isGranularity(v), "must be hour, day or month")
    .transform((v): Granularity => (v === "" ? "day" : (v as Granularity))),
  start: z.date().optional(),
  end: z.date().optional(),
});
export type UsageQuery = z.infer<typeof usageQuerySchema>;

/**
 * A tenant's rollups in [start, end), both widened to whole periods of the granularity (a period that has
 * started counts as a whole: that is how it is stored), with a total per resource type.
 */
export async function readUsage(trx: Tx, tenantId: string, query: UsageQuery, nowMs: number): Promise<GetUsageResponse> {
  const { granularity } = query;
  const endMs = query.end?.getTime() ?? nowMs;
  const startMs = query.start?.getTime() ?? endMs - spans[granularity].defaultMs;
  if (startMs >= endMs) throw invalidArgument([{ field: "start", description: "must be before end" }]);
  if (endMs - startMs > spans[granularity].maxMs) {
    throw invalidArgument([{ field: "start", description: `the range may span at most ${spans[granularity].maxMs / DAY_MS} days at granularity ${granularity}` }]);
  }
  const start = new Date(periodStart(granularity, startMs));
  const lastStart = periodStart(granularity, endMs);
  const end = new Date(lastStart === endMs ? endMs : nextPeriod(granularity, lastStart));
  const points = await usageSeries(trx, { tenantId, resourceType: query.resourceType, granularity, start, end });
  const totals: Record<string, number> = {};
  for (const p of points) totals[p.resourceType] = (totals[p.resourceType] ?? 0) + p.amount;
  return {
    tenantId,
    granularity,
    points: points.map((p) => ({ resourceType: p.resourceType, periodStart: p.periodStart, amount: String(p.amount) })),
    totals: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, String(v)])),
  };
}
