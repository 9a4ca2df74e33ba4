import { featureFlags, planCatalogue, planTypes, resourceTypes, type Plan } from "./catalogue.js";

const n = (v: number): string => v.toLocaleString("en-US");
const money = (minor: number, currency: string): string => `${(minor / 100).toFixed(2)} ${currency}`;
/** Micro-units as a decimal amount, exact (no float rounding): 500 → 0.0005 */
const micros = (v: number): string => {
  const whole = Math.floor(v / 1_000_000);
  const frac = String(v % 1_000_000).padStart(6, "0").replace(/0+$/, "");
  return frac === "" ? String(whole) : `${whole}.${frac}`;
};

type Row = [label: string, value: (p: Plan) => string];

const quotaRows: Row[] = [
  ["api_rate_limit (requests/min)", (p) => n(p.quotas.apiRateLimit)],
  ["burst", (p) => n(p.quotas.burst)],
  ["max_concurrent_reqs", (p) => n(p.performance.maxConcurrentReqs)],
  ["max_businesses", (p) => n(p.quotas.maxBusinesses)],
  ["max_users", (p) => n(p.quotas.maxUsers)],
  ["storage_quota_gb", (p) => n(p.quotas.storageQuotaGb)],
  ["compute_quota_hours", (p) => n(p.quotas.computeQuotaHours)],
  ["concurrent_users", (p) => n(p.quotas.concurrentUsers)],
  ["max_response_time_ms", (p) => n(p.performance.maxResponseTimeMs)],
  ["max_throughput_rps", (p) => n(p.performance.maxThroughputRps)],
  ["cpu_quota_millicores", (p) => n(p.performance.cpuQuotaMillicores)],
  ["memory_quota_mb", (p) => n(p.performance.memoryQuotaMb)],
  ["database_connections", (p) => n(p.performance.databaseConnections)],
  ["cache_entries", (p) => n(p.performance.cacheEntries)],
  ["performance_tier", (p) => p.performanceTier],
  ["priority_level (1-10)", (p) => String(p.priorityLevel)],
  ["scale min / initial / max", (p) => `${p.scale.min} / ${p.scale.initial} / ${p.scale.max}`],
  ["enabled_modules", (p) => p.enabledModules.join(", ")],
  ...featureFlags.map((f): Row => [`feature: ${f}`, (p) => (p.features[f] ? "yes" : "-")]),
];

/** [unit of the included amount, unit of the overage price] per resource type */
const units: Record<(typeof resourceTypes)[number], [string, string]> = {
  api_calls: ["calls per month", "API call"],
  compute: ["hours per month", "compute hour"],
  storage: ["GB", "GB-month of storage"],
  businesses: ["businesses", "business above the included"],
  users: ["users", "user-month above the included"],
};

const rateRows: Row[] = [
  ["base fee per month", (p) => money(p.rates.baseFeeMinor, p.rates.currency)],
  ["annual billing: months charged", (p) => String(p.rates.annualMonthsCharged)],
  ["overage billed", (p) => (p.rates.overageAllowed ? "yes" : "no (hard limit)")],
  ...resourceTypes.map((r): Row => [`included ${r} (${units[r][0]})`, (p) => n(p.rates.included[r])]),
  ...resourceTypes.map((r): Row => [`overage per ${units[r][1]}`, (p) => (p.rates.overageAllowed ? `${micros(p.rates.overageMicros[r])} ${p.rates.currency}` : "-")]),
];

function table(rows: Row[]): string {
  const head = `| | ${planTypes.join(" | ")} |`;
  const rule = `|---|${planTypes.map(() => "---:").join("|")}|`;
  const body = rows.map(([label, value]) => `| ${label} | ${planTypes.map((t) => value(planCatalogue[t])).join(" | ")} |`);
  return [head, rule, ...body].join("\n");
}

/** The catalogue as the two Markdown tables of docs/plans.md (a test keeps the document equal to this) */
export function renderPlanTables(): { quotas: string; rates: string } {
  return { quotas: table(quotaRows), rates: table(rateRows) };
}
