import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import type { TenantEntry } from "../directory/types.js";

/** Which of a tenant's limits refused a request (also the `reason` label of the throttle metrics) */
export type LimitName = "minute" | "second" | "concurrency" | "queue";

/**
 * A refusal by one of the tenant's own limits: TM_ERR_RATE_LIMITED (HTTP 429, gRPC RESOURCE_EXHAUSTED) plus
 * what respond.ts needs for the RateLimit headers. `retryAfterMs` is exact (the gRPC pushback hint takes it);
 * `retryAfterSeconds` is it rounded up, at least 1, as Retry-After wants whole seconds.
 */
export class RateLimitedError extends TenantMeshError {
  constructor(
    message: string,
    readonly limit: LimitName,
    readonly retryAfterMs: number,
    /** `RateLimit-Policy` value: the tenant's time-based policies */
    readonly policy: string,
    /** `RateLimit` value: the refusing policy's remaining quota and reset, or undefined for concurrency/queue */
    readonly current: string | undefined,
  ) {
    super("TM_ERR_RATE_LIMITED", message, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
  }
}

/**
 * The tenant's policies as a `RateLimit-Policy` field (draft-ietf-httpapi-ratelimit-headers-10, Structured
 * Fields): `"minute";q=<api_rate_limit>;w=60` and, when it has a throughput ceiling, `"second";q=<rps>;w=1`.
 * The burst is not a window of its own: it is how far the minute bucket may run ahead, so it is not listed.
 */
export function policyField(tenant: TenantEntry): string {
  const parts: string[] = [];
  if (tenant.apiRateLimit > 0) parts.push(`"minute";q=${tenant.apiRateLimit};w=60`);
  if (tenant.maxThroughputRps > 0) parts.push(`"second";q=${tenant.maxThroughputRps};w=1`);
  return parts.join(", ");
}

/** One policy's live state as a `RateLimit` field: remaining whole requests and seconds until one more */
export function currentField(policy: "minute" | "second", remaining: number, resetSeconds: number): string {
  return `"${policy}";r=${Math.max(0, Math.floor(remaining))};t=${Math.max(0, Math.ceil(resetSeconds))}`;
}

/** The refusal for a rate bucket that holds less than one token */
export function bucketRefusal(tenant: TenantEntry, limit: "minute" | "second", tokens: number, waitMs: number): RateLimitedError {
  const what = limit === "minute" ? `${tenant.apiRateLimit} requests per minute (burst ${tenant.burst})` : `${tenant.maxThroughputRps} requests per second`;
  return withoutStack(() => new RateLimitedError(`tenant ${tenant.slug} is over its rate limit of ${what}`, limit, waitMs, policyField(tenant), currentField(limit, tokens, waitMs / 1000)));
}

/** The refusal for a tenant at its `max_concurrent_requests` */
export function concurrencyRefusal(tenant: TenantEntry, inFlight: number): RateLimitedError {
  return withoutStack(() => new RateLimitedError(
    `tenant ${tenant.slug} has ${inFlight} requests in flight, its limit of concurrent requests`,
    "concurrency",
    1_000,
    policyField(tenant),
    undefined,
  ));
}

/**
 * The extra response fields of a rate-limit refusal, for respond.ts: `ratelimit-policy` and `ratelimit`
 * (HTTP headers, or gRPC trailers beside `grpc-retry-pushback-ms`). Empty for any other error.
 */
export function rateLimitFields(error: TenantMeshError): Record<string, string> {
  if (!(error instanceof RateLimitedError)) return noFields;
  const fields: Record<string, string> = {};
  if (error.policy !== "") fields["ratelimit-policy"] = error.policy;
  if (error.current !== undefined) fields.ratelimit = error.current;
  return fields;
}
const noFields: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Milliseconds a client should wait, exact when the error knows it (gRPC pushback), else from Retry-After */
export function retryAfterMs(error: TenantMeshError): number | undefined {
  if (error instanceof RateLimitedError) return Math.max(1, Math.ceil(error.retryAfterMs));
  return error.retryAfterSeconds === undefined ? undefined : Math.round(error.retryAfterSeconds * 1000);
}
