import * as c from "./checks.js";
import { defineRules } from "./define.js";

/** SOC 2 (Trust Services Criteria 2017, common criteria) */
export const soc2Rules = defineRules("SOC2", [
  { id: "SOC2-CC6.1-MFA", name: "MFA required", category: "access_control", severity: "high", check: c.mfaRequired(),
    description: "Sign-in requires a second factor for every user of the tenant.", requirements: ["CC6.1"],
    recommendation: "Require MFA in the security policy (security_features.mfa) after enrolling your admins." },
  { id: "SOC2-CC6.1-ADMIN-MFA", name: "Admins use MFA", category: "access_control", severity: "high", check: c.adminsUseMfa(),
    description: "Every admin account has MFA turned on.", requirements: ["CC6.1", "CC6.2"],
    recommendation: "Have every admin enroll an authenticator (EnrollMfa, ConfirmMfa)." },
  { id: "SOC2-CC6.2-DORMANT", name: "No dormant admins", category: "access_control", severity: "medium", check: c.noDormantAdmins(),
    description: "Admin accounts unused for 90 days are removed or demoted.", requirements: ["CC6.2"],
    recommendation: "Delete or demote admins who have not signed in for 90 days." },
  { id: "SOC2-CC6.3-LEAST-PRIVILEGE", name: "Few admins", category: "access_control", severity: "low", check: c.fewAdmins(),
    description: "Admin rights are held by few users (at most 20 %, or 2).", requirements: ["CC6.3"],
    recommendation: "Give users the manager or user role unless they administer the tenant." },
  { id: "SOC2-CC6.3-RBAC", name: "Role-based access enforced", category: "access_control", severity: "medium", check: c.accessControlEnforced(),
    description: "The configured access-control model is the one the platform enforces.", requirements: ["CC6.3"],
    recommendation: "Set access_control_level to role_based: attribute-based rules are not evaluated." },
  { id: "SOC2-CC6.1-PASSWORDS", name: "Password length", category: "access_control", severity: "medium", check: c.passwordMinLength(8),
    description: "Passwords have at least 8 characters.", requirements: ["CC6.1"],
    recommendation: "Raise the platform's minimum password length." },
  { id: "SOC2-CC6.7-KEY-ROTATION", name: "Keys rotated on schedule", category: "key_management", severity: "medium", check: c.keyRotationCurrent(), remediation: "rotate_key",
    description: "The tenant's newest data key is younger than its rotation period.", requirements: ["CC6.1", "CC6.7"],
    recommendation: "Rotate the tenant's key (RotateKey); automatic rotation follows key_rotation_days." },
  { id: "SOC2-CC7.2-AUDIT-LEVEL", name: "Detailed audit log", category: "audit", severity: "medium", check: c.auditLevelAtLeast("detailed"),
    description: "Successful sign-ins and configuration changes are recorded, not only failures.", requirements: ["CC7.2"],
    recommendation: "Set audit_level to detailed or comprehensive." },
  { id: "SOC2-CC7.2-AUDIT-INTEGRITY", name: "Audit log intact", category: "audit", severity: "critical", check: c.auditChainIntact(),
    description: "The audit log's hash chain verifies end to end.", requirements: ["CC7.2", "CC7.3"],
    recommendation: "Investigate the broken link VerifyAuditLog names: the log was altered outside the application." },
]);
