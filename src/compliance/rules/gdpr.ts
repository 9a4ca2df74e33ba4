import * as c from "./checks.js";
import { defineRules } from "./define.js";

/** GDPR (Regulation (EU) 2016/679) */
export const gdprRules = defineRules("GDPR", [
  { id: "GDPR-32-FIELDS", name: "Personal data encrypted", category: "data_protection", severity: "high", check: c.sensitiveFieldsEncrypted(),
    description: "Sensitive columns (MFA secrets, registration numbers, beneficial owners) are sealed with the tenant's key.", requirements: ["Art. 32(1)(a)"],
    recommendation: "Re-save records written before encryption existed so they are sealed." },
  { id: "GDPR-32-KEYS", name: "Keys kept apart from data", category: "key_management", severity: "high", check: c.keysOutsideDatabase(),
    description: "The tenant's data keys are wrapped by KEKs held outside the database.", requirements: ["Art. 32(1)(a)", "Art. 25"],
    recommendation: "Run with a persistent keystore (the data dir's keystore file or a KMS)." },
  { id: "GDPR-17-ERASURE", name: "Erasure by crypto-shredding", category: "data_protection", severity: "medium", check: c.cryptoShreddingReady(),
    description: "The tenant's data can be made unreadable everywhere, backups included, by destroying its KEK.", requirements: ["Art. 17"],
    recommendation: "Make sure the tenant has keys of its own (RotateKey creates the first)." },
  { id: "GDPR-5-RETENTION", name: "Storage limitation", category: "data_retention", severity: "medium", check: c.retentionAtMost(3_650),
    description: "Data is kept no longer than 10 years.", requirements: ["Art. 5(1)(e)"],
    recommendation: "Have an operator lower data_retention_days to what the purpose needs." },
  { id: "GDPR-5-ACCOUNTABILITY", name: "Accountability record intact", category: "audit", severity: "high", check: c.auditChainIntact(),
    description: "The audit log proves what was done with the data: its chain verifies.", requirements: ["Art. 5(2)", "Art. 30"],
    recommendation: "Investigate the broken link VerifyAuditLog names." },
  { id: "GDPR-30-AUDIT-LEVEL", name: "Processing recorded", category: "audit", severity: "medium", check: c.auditLevelAtLeast("detailed"),
    description: "Access and changes are recorded with their detail.", requirements: ["Art. 30"],
    recommendation: "Set audit_level to detailed or comprehensive." },
  { id: "GDPR-32-ADMIN-MFA", name: "Admins use MFA", category: "access_control", severity: "medium", check: c.adminsUseMfa(),
    description: "Accounts that can reach all personal data use MFA.", requirements: ["Art. 32(1)(b)"],
    recommendation: "Have every admin enroll MFA." },
  { id: "GDPR-25-ACCESS", name: "Access by role", category: "access_control", severity: "medium", check: c.accessControlEnforced(),
    description: "Data protection by design: access follows enforced roles.", requirements: ["Art. 25"],
    recommendation: "Set access_control_level to role_based." },
  { id: "GDPR-32-KEY-ROTATION", name: "Keys rotated", category: "key_management", severity: "medium", check: c.keyRotationCurrent(), remediation: "rotate_key",
    description: "The newest data key is within the rotation period.", requirements: ["Art. 32(1)(a)"],
    recommendation: "Rotate the tenant's key." },
]);
