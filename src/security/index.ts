/** Per-tenant security: policies, envelope encryption, crypto-shredding (docs/security.md) */
export { createSecuritySlice, securitySlice, type SecuritySliceOptions } from "./slice.js";
export { createSecurityRuntime, type SecurityRuntime, type SecurityRuntimeOptions } from "./runtime.js";
export { Keyring, type KeyInfo, type KeyringOptions } from "./keyring.js";
export { TenantKeys, type Context, type KeyVersions } from "./tenant-keys.js";
export { LocalKeyStore, type KeyStore } from "./keystore.js";
export { FileKeyStore, masterKeyId } from "./file-keystore.js";
export { openFileKeyStore, KEYSTORE_FILE } from "./master-key.js";
export { fieldCipher, fieldContext, unencryptedFieldsForTesting, type FieldCipher, type FieldKeys } from "./fields.js";
export { encryptionKeysStep } from "./provisioning-step.js";
export { purgeTenant, type DeletionReceipt, type PurgeInput } from "./shred.js";
export { purgeExpiredTenants, rotateDueKeys } from "./jobs.js";
export { auditLevelOf, mfaRequired, readPolicy, writePolicy } from "./policy-store.js";
export {
  accessControlLevels,
  complianceStandards,
  effectivePolicy,
  encryptionLevels,
  maxRotationDays,
  notEnforced,
  planPolicyDefaults,
  securityFeatures,
  type ComplianceStandard,
  type SecurityPolicy,
} from "./policy.js";
export { isSealedText, toText, fromText } from "./envelope.js";
