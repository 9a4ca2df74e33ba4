/**
 * The one plan catalogue of tenantmesh. A tenant's quotas, performance quota, tier, priority, features, enabled
 * modules and scale bounds are all derived from its plan here, at provisioning and on every plan change; an
 * operator may then override single values per tenant. docs/plans.md shows these numbers as a table; change
 * both together.
 *
 * Money is integers only: the base fee in minor units of its currency (cents), overage rates in micro-units of
 * the currency (millionths of a dollar) per unit, so sub-cent prices stay exact.
 */

export const planTypes = ["free", "basic", "professional", "enterprise"] as const;
export type PlanType = (typeof planTypes)[number];
export const isPlanType = (value: string): value is PlanType => (planTypes as readonly string[]).includes(value);

export const performanceTiers = ["standard", "premium", "enterprise"] as const;
export type PerformanceTier = (typeof performanceTiers)[number];

/** The KYB modules a tenant may call (the proxy refuses requests to a module that is not enabled) */
export const modules = ["classification", "risk_assessment"] as const;
export type ModuleName = (typeof modules)[number];

/** Feature flags a plan switches on; a tenant's `features` map holds every one of them, true or false */
export const featureFlags = [
  "api_access",
  "webhooks",
  "bulk_import",
  "custom_rules",
  "audit_log_export",
  "sso",
  "priority_support",
  "dedicated_backends",
  "sla",
] as const;
export type FeatureFlag = (typeof featureFlags)[number];

/** Metered resources, as `tenant_resource_usage.resource_type` names them */
export const resourceTypes = ["api_calls", "compute", "storage", "businesses", "users"] as const;
export type ResourceType = (typeof resourceTypes)[number];

/** The seed's PerformanceQuota, enforced by the proxy and the backends */
export interface PerformanceQuota {
  /** Upstream timeout in the proxy */
  maxResponseTimeMs: number;
  /** Requests per second admitted at most (a ceiling above the per-minute rate, for bursts) */
  maxThroughputRps: number;
  maxConcurrentReqs: number;
  cpuQuotaMillicores: number;
  memoryQuotaMb: number;
  databaseConnections: number;
  cacheEntries: number;
}

export interface Quotas {
  /** Requests per minute (the token bucket's refill rate) */
  apiRateLimit: number;
  /** Requests the token bucket may take above the steady rate */
  burst: number;
  maxBusinesses: number;
  maxUsers: number;
  storageQuotaGb: number;
  computeQuotaHours: number;
  /** Active user sessions at once */
  concurrentUsers: number;
}

/** The tenant's backend subset size in the proxy: the scaler moves `current` between min and max */
export interface ScaleBounds {
  min: number;
  max: number;
  initial: number;
}

/** What the billing issue charges. Every amount is an integer. */
export interface PlanRates {
  /** ISO 4217 */
  currency: string;
  /** Per billing month, in minor units (cents) */
  baseFeeMinor: number;
  /** Annual billing: months charged for twelve */
  annualMonthsCharged: number;
  /** Usage included in the base fee per month (api_calls: calls; compute: hours; storage: GB; businesses, users: count) */
  included: Readonly<Record<ResourceType, number>>;
  /** Price per unit above the included usage, in micro-units of the currency (1 USD = 1,000,000) */
  overageMicros: Readonly<Record<ResourceType, number>>;
  /** False: usage above the included amount is refused instead of billed (the free plan) */
  overageAllowed: boolean;
}

export interface Plan {
  type: PlanType;
  quotas: Quotas;
  performance: PerformanceQuota;
  performanceTier: PerformanceTier;
  /** 1 (lowest) to 10 (highest): the proxy's admission and queueing order under load */
  priorityLevel: number;
  features: Readonly<Record<FeatureFlag, boolean>>;
  enabledModules: readonly ModuleName[];
  scale: ScaleBounds;
  rates: PlanRates;
}

const flags = (...on: FeatureFlag[]): Record<FeatureFlag, boolean> =>
  Object.fromEntries(featureFlags.map((f) => [f, on.includes(f)])) as Record<FeatureFlag, boolean>;

const noOverage: Record<ResourceType, number> = { api_calls: 0, compute: 0, storage: 0, businesses: 0, users: 0 };

export const planCatalogue: Readonly<Record<PlanType, Plan>> = {
  free: {
    type: "free",
    quotas: { apiRateLimit: 60, burst: 10, maxBusinesses: 100, maxUsers: 3, storageQuotaGb: 1, computeQuotaHours: 10, concurrentUsers: 2 },
    performance: {
      maxResponseTimeMs: 5_000,
      maxThroughputRps: 2,
      maxConcurrentReqs: 5,
      cpuQuotaMillicores: 250,
      memoryQuotaMb: 256,
      databaseConnections: 2,
      cacheEntries: 1_000,
    },
    performanceTier: "standard",
    priorityLevel: 2,
    features: flags("api_access"),
    enabledModules: ["classification"],
    scale: { min: 1, max: 1, initial: 1 },
    rates: {
      currency: "USD",
      baseFeeMinor: 0,
      annualMonthsCharged: 12,
      included: { api_calls: 10_000, compute: 10, storage: 1, businesses: 100, users: 3 },
      overageMicros: noOverage,
      overageAllowed: false,
    },
  },
  basic: {
    type: "basic",
    quotas: { apiRateLimit: 600, burst: 50, maxBusinesses: 1_000, maxUsers: 10, storageQuotaGb: 10, computeQuotaHours: 100, concurrentUsers: 10 },
    performance: {
      maxResponseTimeMs: 10_000,
      maxThroughputRps: 20,
      maxConcurrentReqs: 20,
      cpuQuotaMillicores: 1_000,
      memoryQuotaMb: 1_024,
      databaseConnections: 5,
      cacheEntries: 10_000,
    },
    performanceTier: "standard",
    priorityLevel: 4,
    features: flags("api_access", "webhooks", "bulk_import"),
    enabledModules: ["classification", "risk_assessment"],
    scale: { min: 1, max: 2, initial: 1 },
    rates: {
      currency: "USD",
      baseFeeMinor: 4_900,
      annualMonthsCharged: 10,
      included: { api_calls: 100_000, compute: 100, storage: 10, businesses: 1_000, users: 10 },
      overageMicros: { api_calls: 500, compute: 100_000, storage: 250_000, businesses: 50_000, users: 5_000_000 },
      overageAllowed: true,
    },
  },
  professional: {
    type: "professional",
    quotas: { apiRateLimit: 3_000, burst: 200, maxBusinesses: 10_000, maxUsers: 50, storageQuotaGb: 100, computeQuotaHours: 500, concurrentUsers: 50 },
    performance: {
      maxResponseTimeMs: 15_000,
      maxThroughputRps: 100,
      maxConcurrentReqs: 100,
      cpuQuotaMillicores: 4_000,
      memoryQuotaMb: 4_096,
      databaseConnections: 20,
      cacheEntries: 100_000,
    },
    performanceTier: "premium",
    priorityLevel: 7,
    features: flags("api_access", "webhooks", "bulk_import", "custom_rules", "audit_log_export", "sso"),
    enabledModules: ["classification", "risk_assessment"],
    scale: { min: 2, max: 4, initial: 2 },
    rates: {
      currency: "USD",
      baseFeeMinor: 29_900,
      annualMonthsCharged: 10,
      included: { api_calls: 1_000_000, compute: 500, storage: 100, businesses: 10_000, users: 50 },
      overageMicros: { api_calls: 300, compute: 80_000, storage: 200_000, businesses: 30_000, users: 4_000_000 },
      overageAllowed: true,
    },
  },
  enterprise: {
    type: "enterprise",
    quotas: {
      apiRateLimit: 15_000,
      burst: 1_000,
      maxBusinesses: 100_000,
      maxUsers: 500,
      storageQuotaGb: 1_000,
      computeQuotaHours: 2_000,
      concurrentUsers: 500,
    },
    performance: {
      maxResponseTimeMs: 30_000,
      maxThroughputRps: 500,
      maxConcurrentReqs: 500,
      cpuQuotaMillicores: 16_000,
      memoryQuotaMb: 16_384,
      databaseConnections: 100,
      cacheEntries: 1_000_000,
    },
    performanceTier: "enterprise",
    priorityLevel: 10,
    features: flags(...featureFlags),
    enabledModules: ["classification", "risk_assessment"],
    scale: { min: 3, max: 8, initial: 4 },
    rates: {
      currency: "USD",
      baseFeeMinor: 199_900,
      annualMonthsCharged: 10,
      included: { api_calls: 10_000_000, compute: 2_000, storage: 1_000, businesses: 100_000, users: 500 },
      overageMicros: { api_calls: 100, compute: 50_000, storage: 100_000, businesses: 10_000, users: 3_000_000 },
      overageAllowed: true,
    },
  },
};

/** The plan of a type (the catalogue is total over PlanType, so this never fails) */
export const planFor = (type: PlanType): Plan => planCatalogue[type];
