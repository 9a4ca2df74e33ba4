import type { Tenant } from "../gen/tenantmesh/v1/tenant.js";
import type { Plan, PlanType } from "../plans/index.js";

export const tenantStatuses = ["provisioning", "active", "suspended", "cancelled"] as const;
export type TenantStatus = (typeof tenantStatuses)[number];
export const isTenantStatus = (value: string): value is TenantStatus => (tenantStatuses as readonly string[]).includes(value);

export const billingCycles = ["monthly", "annual"] as const;
export type BillingCycle = (typeof billingCycles)[number];

type Json = Record<string, unknown>;

/** A row of `tenants` as the database returns it (snake_case, one field per column) */
export interface TenantRow {
  id: string;
  name: string;
  slug: string;
  plan_type: PlanType;
  status: TenantStatus;
  api_rate_limit: number;
  burst: number;
  max_businesses: number;
  max_users: number;
  storage_quota_gb: number;
  compute_quota_hours: number;
  concurrent_users: number;
  features: Record<string, boolean> | null;
  enabled_modules: string[] | null;
  billing_info: Json | null;
  usage_metrics: Json | null;
  billing_cycle: string | null;
  performance_tier: string | null;
  priority_level: number;
  max_response_time_ms: number;
  max_throughput_rps: number;
  max_concurrent_reqs: number;
  cpu_quota_millicores: number;
  memory_quota_mb: number;
  database_connections: number;
  cache_entries: number;
  scale_current: number;
  scale_min: number;
  scale_max: number;
  security_policy: Json | null;
  compliance_requirements: Json | null;
  data_retention_days: number;
  network_restrictions: string[];
  idempotency_key: string | null;
  sessions_valid_after: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** Columns a plan decides. Written whole at provisioning and on a plan change. */
export type PlanColumns = Pick<
  TenantRow,
  | "plan_type"
  | "api_rate_limit"
  | "burst"
  | "max_businesses"
  | "max_users"
  | "storage_quota_gb"
  | "compute_quota_hours"
  | "concurrent_users"
  | "performance_tier"
  | "priority_level"
  | "max_response_time_ms"
  | "max_throughput_rps"
  | "max_concurrent_reqs"
  | "cpu_quota_millicores"
  | "memory_quota_mb"
  | "database_connections"
  | "cache_entries"
  | "scale_min"
  | "scale_max"
> & { features: Record<string, boolean>; enabled_modules: string[] };

/** The plan-derived columns of a tenant on `plan` (scale_current is not among them: see clampScale) */
export function planColumns(plan: Plan): PlanColumns {
  const { quotas: q, performance: p } = plan;
  return {
    plan_type: plan.type,
    api_rate_limit: q.apiRateLimit,
    burst: q.burst,
    max_businesses: q.maxBusinesses,
    max_users: q.maxUsers,
    storage_quota_gb: q.storageQuotaGb,
    compute_quota_hours: q.computeQuotaHours,
    concurrent_users: q.concurrentUsers,
    performance_tier: plan.performanceTier,
    priority_level: plan.priorityLevel,
    max_response_time_ms: p.maxResponseTimeMs,
    max_throughput_rps: p.maxThroughputRps,
    max_concurrent_reqs: p.maxConcurrentReqs,
    cpu_quota_millicores: p.cpuQuotaMillicores,
    memory_quota_mb: p.memoryQuotaMb,
    database_connections: p.databaseConnections,
    cache_entries: p.cacheEntries,
    scale_min: plan.scale.min,
    scale_max: plan.scale.max,
    features: { ...plan.features },
    enabled_modules: [...plan.enabledModules],
  };
}

/** Keeps the current scale inside new bounds (the scaler moves it later; a plan change must not break the CHECK) */
export const clampScale = (current: number, min: number, max: number): number => Math.min(max, Math.max(min, current));

/** The wire form of a tenant row (ts-proto camelCase); the idempotency key stays internal */
export function toTenantMessage(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    planType: row.plan_type,
    status: row.status,
    apiRateLimit: row.api_rate_limit,
    burst: row.burst,
    maxBusinesses: row.max_businesses,
    maxUsers: row.max_users,
    storageQuotaGb: row.storage_quota_gb,
    computeQuotaHours: row.compute_quota_hours,
    concurrentUsers: row.concurrent_users,
    features: { ...(row.features ?? {}) },
    enabledModules: [...(row.enabled_modules ?? [])],
    billingInfo: row.billing_info ?? undefined,
    usageMetrics: row.usage_metrics ?? undefined,
    billingCycle: row.billing_cycle ?? "monthly",
    performanceTier: row.performance_tier ?? "standard",
    priorityLevel: row.priority_level,
    performanceQuota: {
      maxResponseTimeMs: row.max_response_time_ms,
      maxThroughputRps: row.max_throughput_rps,
      maxConcurrentReqs: row.max_concurrent_reqs,
      cpuQuotaMillicores: row.cpu_quota_millicores,
      memoryQuotaMb: row.memory_quota_mb,
      databaseConnections: row.database_connections,
      cacheEntries: row.cache_entries,
    },
    scale: { current: row.scale_current, min: row.scale_min, max: row.scale_max },
    securityPolicy: row.security_policy ?? undefined,
    complianceRequirements: row.compliance_requirements ?? undefined,
    dataRetentionDays: row.data_retention_days,
    networkRestrictions: [...row.network_restrictions],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at ?? undefined,
  };
}

/** JSONB columns: knex/pg would send a JS array as a PostgreSQL array literal, so JSON goes as text */
export const jsonb = (value: unknown): string => JSON.stringify(value);
