/**
 * UpdateTenant's field mask: which paths exist, who may write them, and how a Tenant message's value becomes
 * column values. Paths are the proto's snake_case names; `performance_quota` and `scale` may be named whole or
 * by sub-field.
 */
import { invalidArgument, permissionDenied, type FieldViolation } from "../errors/index.js";
import type { Tenant } from "../gen/tenantmesh/v1/tenant.js";
import { featureFlags, isPlanType, modules, performanceTiers, planFor } from "../plans/index.js";
import { normalizeCidr } from "./cidr.js";
import { billingCycles, clampScale, planColumns, type TenantRow } from "./model.js";
import type { TenantPatch } from "./store.js";

/** What a tenant's own admin may change; everything else (plan, quotas, status, priority, …) is operator-only */
export const tenantWritablePaths: ReadonlySet<string> = new Set(["name", "billing_info", "billing_cycle", "network_restrictions"]);

type IntSpec = { column: keyof TenantRow; get: (t: Tenant) => number | undefined; min: number; max: number };
const big = 2_000_000_000;
const int = (column: keyof TenantRow, get: (t: Tenant) => number | undefined, min: number, max = big): IntSpec => ({ column, get, min, max });

const intPaths: Record<string, IntSpec> = {
  api_rate_limit: int("api_rate_limit", (t) => t.apiRateLimit, 1),
  burst: int("burst", (t) => t.burst, 0),
  max_businesses: int("max_businesses", (t) => t.maxBusinesses, 0),
  max_users: int("max_users", (t) => t.maxUsers, 1),
  storage_quota_gb: int("storage_quota_gb", (t) => t.storageQuotaGb, 0),
  compute_quota_hours: int("compute_quota_hours", (t) => t.computeQuotaHours, 0),
  concurrent_users: int("concurrent_users", (t) => t.concurrentUsers, 0),
  priority_level: int("priority_level", (t) => t.priorityLevel, 1, 10),
  data_retention_days: int("data_retention_days", (t) => t.dataRetentionDays, 1, 36_500),
  "performance_quota.max_response_time_ms": int("max_response_time_ms", (t) => t.performanceQuota?.maxResponseTimeMs, 1),
  "performance_quota.max_throughput_rps": int("max_throughput_rps", (t) => t.performanceQuota?.maxThroughputRps, 1),
  "performance_quota.max_concurrent_reqs": int("max_concurrent_reqs", (t) => t.performanceQuota?.maxConcurrentReqs, 1),
  "performance_quota.cpu_quota_millicores": int("cpu_quota_millicores", (t) => t.performanceQuota?.cpuQuotaMillicores, 0),
  "performance_quota.memory_quota_mb": int("memory_quota_mb", (t) => t.performanceQuota?.memoryQuotaMb, 0),
  "performance_quota.database_connections": int("database_connections", (t) => t.performanceQuota?.databaseConnections, 0),
  "performance_quota.cache_entries": int("cache_entries", (t) => t.performanceQuota?.cacheEntries, 0),
  "scale.current": int("scale_current", (t) => t.scale?.current, 1, 1_000),
  "scale.min": int("scale_min", (t) => t.scale?.min, 1, 1_000),
  "scale.max": int("scale_max", (t) => t.scale?.max, 1, 1_000),
};
const groups: Record<string, string[]> = {
  performance_quota: Object.keys(intPaths).filter((p) => p.startsWith("performance_quota.")),
  scale: ["scale.current", "scale.min", "scale.max"],
};
const otherPaths = new Set(["name", "plan_type", "features", "enabled_modules", "billing_info", "billing_cycle", "performance_tier", "security_policy", "compliance_requirements", "network_restrictions"]);
const lifecyclePaths = new Set(["status", "deleted_at"]);
const immutablePaths = new Set(["id", "slug", "created_at", "updated_at", "usage_metrics"]);

/**
 * Checks the mask against the caller: unknown or immutable paths are INVALID_ARGUMENT (for everyone); paths
 * outside tenantWritablePaths are PERMISSION_DENIED for a tenant principal. Returns the paths, groups expanded.
 */
export function checkMask(paths: readonly string[], isOperator: boolean): string[] {
  if (paths.length === 0) throw invalidArgument([{ field: "update_mask", description: "must name at least one field" }]);
  const violations: FieldViolation[] = [];
  for (const p of paths) {
    if (immutablePaths.has(p)) violations.push({ field: "update_mask", description: `'${p}' cannot be changed` });
    else if (lifecyclePaths.has(p) && isOperator) {
      violations.push({ field: "update_mask", description: `'${p}' changes through SuspendTenant, ReactivateTenant or CancelTenant` });
    } else if (!lifecyclePaths.has(p) && !otherPaths.has(p) && !(p in intPaths) && !(p in groups)) {
      violations.push({ field: "update_mask", description: `unknown field '${echo(p)}'` });
    }
  }
  if (violations.length > 0) throw invalidArgument(violations);
  if (!isOperator) {
    const forbidden = paths.filter((p) => !tenantWritablePaths.has(p));
    if (forbidden.length > 0) throw permissionDenied(`only a platform operator may change ${forbidden.join(", ")}`);
  }
  return [...new Set(paths.flatMap((p) => groups[p] ?? [p]))];
}

/**
 * A caller's value quoted back in an error: printable ASCII only, short. Violations travel in gRPC metadata
 * (tm-violations), where any other character makes grpc-js throw while sending the error.
 */
export const echo = (value: string): string => value.slice(0, 64).replace(/[^\x20-\x7e]/g, "?");

const isStringRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The column patch for the (checked) paths. A plan change goes first and re-derives every plan column from the
 * catalogue; explicit quota paths in the same mask then override single values.
 */
export function buildPatch(current: TenantRow, paths: readonly string[], t: Tenant): TenantPatch {
  const violations: FieldViolation[] = [];
  const bad = (field: string, description: string): void => void violations.push({ field: `tenant.${field}`, description });
  let patch: TenantPatch = {};

  if (paths.includes("plan_type")) {
    if (!isPlanType(t.planType)) bad("plan_type", "must be one of free, basic, professional, enterprise");
    else {
      const cols = planColumns(planFor(t.planType));
      patch = { ...cols, scale_current: clampScale(current.scale_current, cols.scale_min, cols.scale_max) };
    }
  }
  for (const path of paths) {
    const spec = intPaths[path];
    if (spec) {
      const v = spec.get(t);
      if (v === undefined || !Number.isInteger(v) || v < spec.min || v > spec.max) bad(path, `must be an integer from ${spec.min} to ${spec.max}`);
      else (patch as Record<string, unknown>)[spec.column] = v;
      continue;
    }
    switch (path) {
      case "name": {
        const name = t.name.trim();
        if (name === "" || name.length > 255) bad(path, "must be 1 to 255 characters");
        else patch.name = name;
        break;
      }
      case "billing_cycle":
        if (!(billingCycles as readonly string[]).includes(t.billingCycle)) bad(path, "must be monthly or annual");
        else patch.billing_cycle = t.billingCycle;
        break;
      case "performance_tier":
        if (!(performanceTiers as readonly string[]).includes(t.performanceTier)) bad(path, "must be standard, premium or enterprise");
        else patch.performance_tier = t.performanceTier;
        break;
      case "security_policy":
        // Validated as a whole, with its enforcement and its audit event, only by SecurityService.
        bad(path, "changes through SecurityService.UpdateSecurityPolicy");
        break;
      case "billing_info":
      case "compliance_requirements": {
        const v = path === "billing_info" ? t.billingInfo : t.complianceRequirements;
        if (v !== undefined && !isStringRecord(v)) bad(path, "must be an object");
        else (patch as Record<string, unknown>)[path] = v ?? (path === "billing_info" ? null : {});
        break;
      }
      case "features": {
        const unknown = Object.keys(t.features).filter((f) => !(featureFlags as readonly string[]).includes(f));
        if (unknown.length > 0) bad(path, `unknown feature flags: ${unknown.map(echo).join(", ")}`);
        else patch.features = Object.fromEntries(featureFlags.map((f) => [f, t.features[f] === true]));
        break;
      }
      case "enabled_modules": {
        const unknown = t.enabledModules.filter((m) => !(modules as readonly string[]).includes(m));
        if (unknown.length > 0) bad(path, `unknown modules: ${unknown.map(echo).join(", ")}`);
        else patch.enabled_modules = [...new Set(t.enabledModules)];
        break;
      }
      case "network_restrictions": {
        if (t.networkRestrictions.length > 100) bad(path, "at most 100 CIDR blocks");
        const cidrs = t.networkRestrictions.map((c) => ({ c, n: normalizeCidr(c) }));
        for (const { c, n } of cidrs) if (n === null) bad(path, `'${echo(c)}' is not an IPv4 or IPv6 CIDR block`);
        patch.network_restrictions = [...new Set(cidrs.map(({ n }) => n ?? ""))];
        break;
      }
    }
  }
  const min = patch.scale_min ?? current.scale_min;
  const max = patch.scale_max ?? current.scale_max;
  const cur = patch.scale_current ?? current.scale_current;
  if (!(min <= cur && cur <= max)) bad("scale", `needs min <= current <= max (got ${min}, ${cur}, ${max})`);
  if (violations.length > 0) throw invalidArgument(violations);
  return patch;
}
