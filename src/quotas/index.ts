/** Quotas and shared resource pools: the one CheckQuota every enforcement point calls, and QuotaService */
export { createQuotasSlice, quotasSlice, type QuotasSliceOptions } from "./slice.js";
export { checkQuota, evaluateQuota, quotaError, requireQuota, requireQuotaDefinition, type QuotaResult } from "./check.js";
export { quotaDefinitions, quotaFor, quotaResources, type QuotaDefinition, type QuotaKind } from "./definitions.js";
export { readTenantQuotas, type TenantQuotaRow } from "./limits.js";
export { flowQuotaStatuses, proxyEnforcedQuotas } from "./flow-status.js";
export { allocate, release, poolState, poolNames, poolUnits, defaultPoolCapacities, isPoolName, type PoolName, type PoolState } from "./pools.js";
