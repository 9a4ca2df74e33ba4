/**
 * Alert rules, as pure functions of one tenant's recent metrics. Each rule yields a condition for every kind
 * (and quota resource) it covers, active or not, so the evaluator can both raise and clear.
 */
export type AlertKind = "latency_p99" | "error_rate" | "quota" | "throttling";
export type Severity = "warning" | "critical";

export interface AlertConfig {
  /** p99 above this fraction of the tenant's max_response_time raises latency_p99 (beyond it requests time out) */
  readonly latencyFraction: number;
  readonly errorRate: number;
  /** A quota used beyond this fraction raises quota */
  readonly quotaFraction: number;
  /** Throttle rate a window must reach to count toward sustained throttling */
  readonly throttleRate: number;
  /** Consecutive windows of throttling that make it sustained */
  readonly sustainedWindows: number;
  /** Requests the evaluation period needs before latency and error rates mean anything */
  readonly minRequests: number;
}

export const defaultAlertConfig: AlertConfig = Object.freeze({
  latencyFraction: 0.8,
  errorRate: 0.05,
  quotaFraction: 0.9,
  throttleRate: 0.05,
  sustainedWindows: 3,
  minRequests: 20,
});

export interface QuotaUse {
  /** businesses | users | storage | compute */
  readonly resource: string;
  readonly used: number;
  readonly limit: number;
}

export interface AlertInput {
  readonly maxResponseTimeMs: number;
  /** Over the evaluation period */
  readonly requests: number;
  readonly errors: number;
  readonly p99Ms: number;
  /** Per window of the period, oldest first, only windows with traffic: their start and throttle rate */
  readonly throttleWindows: ReadonlyArray<{ start: number; rate: number }>;
  readonly windowMs: number;
  readonly quotas: readonly QuotaUse[];
}

export interface AlertCondition {
  readonly kind: AlertKind;
  readonly resource: string;
  readonly active: boolean;
  readonly severity: Severity;
  readonly value: number;
  readonly threshold: number;
  readonly message: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function evaluateAlertRules(input: AlertInput, config: AlertConfig = defaultAlertConfig): AlertCondition[] {
  const out: AlertCondition[] = [];
  const enough = input.requests >= config.minRequests;

  const latencyThreshold = input.maxResponseTimeMs * config.latencyFraction;
  out.push({
    kind: "latency_p99",
    resource: "",
    active: enough && input.maxResponseTimeMs > 0 && input.p99Ms > latencyThreshold,
    severity: input.p99Ms >= input.maxResponseTimeMs ? "critical" : "warning",
    value: input.p99Ms,
    threshold: latencyThreshold,
    message: `p99 ${input.p99Ms.toFixed(1)} ms is above ${pct(config.latencyFraction)} of max_response_time ${input.maxResponseTimeMs} ms`,
  });

  const errorRate = input.requests === 0 ? 0 : input.errors / input.requests;
  out.push({
    kind: "error_rate",
    resource: "",
    active: enough && errorRate > config.errorRate,
    severity: errorRate > 4 * config.errorRate ? "critical" : "warning",
    value: errorRate,
    threshold: config.errorRate,
    message: `error rate ${pct(errorRate)} (${input.errors} of ${input.requests} requests) is above ${pct(config.errorRate)}`,
  });

  for (const q of input.quotas) {
    const used = q.limit > 0 ? q.used / q.limit : 0;
    out.push({
      kind: "quota",
      resource: q.resource,
      active: q.limit > 0 && used > config.quotaFraction,
      severity: used >= 1 ? "critical" : "warning",
      value: used,
      threshold: config.quotaFraction,
      message: `${q.resource} quota ${pct(used)} used (${q.used} of ${q.limit})`,
    });
  }

  // Sustained: the latest windows with traffic, consecutive in time, each throttled at or above the rate.
  const recent = input.throttleWindows.slice(-config.sustainedWindows);
  const consecutive = recent.every((w, i) => i === 0 || w.start - recent[i - 1]!.start === input.windowMs);
  const sustained = recent.length === config.sustainedWindows && consecutive && recent.every((w) => w.rate >= config.throttleRate);
  const lowest = recent.length === 0 ? 0 : Math.min(...recent.map((w) => w.rate));
  out.push({
    kind: "throttling",
    resource: "",
    active: sustained,
    severity: sustained && lowest >= 0.5 ? "critical" : "warning",
    value: lowest,
    threshold: config.throttleRate,
    message: `throttled in ${recent.length} consecutive windows (at least ${pct(lowest)} of requests each)`,
  });
  return out;
}
