export { createTenantsSlice, tenantsSlice, DEFAULT_CHANGE_RETENTION_MS, type TenantsSliceOptions } from "./slice.js";
export { apiKeyVerifier, LAST_USED_RESOLUTION_MS } from "./api-keys.js";
export { toApiKeyMessage, toApiKeyDigest, type ApiKeyRow } from "./api-key-store.js";
export { isTenantStatus, planColumns, tenantStatuses, toTenantMessage, type TenantRow, type TenantStatus } from "./model.js";
export { lifecycleMoves, moveTenant, type LifecycleAction } from "./lifecycle.js";
export { normalizeCidr } from "./cidr.js";
export { ChangeFeed, type ChangeFeedOptions } from "./feed/change-feed.js";
export { compactChanges } from "./feed/config.js";
export { provisionTenant, type ProvisionOutcome } from "./provisioning/run.js";
export {
  activateStep,
  composeProvisioningSteps,
  createAdminUserStep,
  createFirstApiKeyStep,
  createTenantStep,
  defaultProvisioningSteps,
} from "./provisioning/steps.js";
export { checkProvisionInput, generatePassword, validateStep } from "./provisioning/validate.js";
export { need, type ProvisionInput, type ProvisioningContext, type ProvisioningEnv, type ProvisioningStep } from "./provisioning/step.js";
export { tenantWritablePaths } from "./update-mask.js";
