/**
 * Aggregation windows of the metering store. Every period is in UTC, whatever the tenant's or the server's
 * time zone, so a rollup row means the same instant on every replica and in every report.
 */

export const granularities = ["hour", "day", "month"] as const;
export type Granularity = (typeof granularities)[number];
export const isGranularity = (value: string): value is Granularity => (granularities as readonly string[]).includes(value);

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Start (epoch ms) of the period of `granularity` that contains `ms` */
export function periodStart(granularity: Granularity, ms: number): number {
  switch (granularity) {
    case "hour":
      return Math.floor(ms / HOUR_MS) * HOUR_MS;
    case "day":
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case "month": {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

/** The first instant of the month `months` after the month starting at `monthStartMs` (negative: before) */
export function addMonths(monthStartMs: number, months: number): number {
  const d = new Date(monthStartMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
}

/** Start of the period after the one starting at `start` */
export function nextPeriod(granularity: Granularity, start: number): number {
  if (granularity === "hour") return start + HOUR_MS;
  if (granularity === "day") return start + DAY_MS;
  return addMonths(start, 1);
}

/** A billing period: a calendar month (`2026-03`) or a calendar year (`2026`), UTC */
export interface BillingPeriod {
  /** As written: YYYY-MM or YYYY */
  label: string;
  kind: "month" | "year";
  start: Date;
  end: Date;
  /** Calendar months it spans (1 or 12) */
  months: number;
}

/** Parses `YYYY-MM` or `YYYY`; undefined when it is neither */
export function parseBillingPeriod(label: string): BillingPeriod | undefined {
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(label);
  if (month) {
    const start = Date.UTC(Number(month[1]), Number(month[2]) - 1, 1);
    return { label, kind: "month", start: new Date(start), end: new Date(addMonths(start, 1)), months: 1 };
  }
  const year = /^(\d{4})$/.exec(label);
  if (year) {
    const start = Date.UTC(Number(year[1]), 0, 1);
    return { label, kind: "year", start: new Date(start), end: new Date(addMonths(start, 12)), months: 12 };
  }
  return undefined;
}

/** The calendar month containing `ms`, as a billing period */
export function monthPeriodOf(ms: number): BillingPeriod {
  const d = new Date(ms);
  const label = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
  const period = parseBillingPeriod(label);
  if (period === undefined) throw new Error(`unreachable: ${label} is a month`);
  return period;
}

/** The month starts (epoch ms) of every month in the period, oldest first */
export function monthsOf(period: Pick<BillingPeriod, "start" | "months">): number[] {
  return Array.from({ length: period.months }, (_, i) => addMonths(period.start.getTime(), i));
}
