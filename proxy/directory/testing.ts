import type { TenantConfig } from "../../src/gen/tenantmesh/v1/tenant.js";

/** A complete, active TenantConfig for tests; `patch` overrides tenant fields */
export function tenantConfig(id: string, patch: Partial<NonNullable<TenantConfig["tenant"]>> = {}, keys: string[] = []): TenantConfig {
  return {
    tenant: {
      id,
      name: `Tenant ${id}`,
      slug: id,
      planType: "professional",
      status: "active",
      apiRateLimit: 6000,
      burst: 100,
      maxBusinesses: 100,
      maxUsers: 10,
      storageQuotaGb: 1,
      computeQuotaHours: 1,
      concurrentUsers: 10,
      features: {},
      enabledModules: ["classification"],
      billingInfo: undefined,
      usageMetrics: undefined,
      billingCycle: "monthly",
      performanceTier: "premium",
      priorityLevel: 5,
      performanceQuota: {
        maxResponseTimeMs: 2000,
        maxThroughputRps: 100,
        maxConcurrentReqs: 20,
        cpuQuotaMillicores: 0,
        memoryQuotaMb: 0,
        databaseConnections: 0,
        cacheEntries: 0,
      },
      scale: { current: 2, min: 1, max: 4 },
      securityPolicy: undefined,
      complianceRequirements: undefined,
      dataRetentionDays: 30,
      networkRestrictions: [],
      createdAt: undefined,
      updatedAt: undefined,
      deletedAt: undefined,
      ...patch,
    },
    apiKeys: keys.map((keyId) => ({ keyId, secretHash: `hash-${keyId}`, role: "admin", expiresAt: undefined })),
    sessionsValidAfter: undefined,
  };
}
