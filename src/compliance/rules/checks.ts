/**
 * The validation functions rules point at, each a pure function of the tenant's state. A check says whether
 * the state passes, why, and which facts it looked at (the finding's evidence).
 */
import { levelRank, type AuditLevel } from "../../audit/index.js";
import { encryptionLevels, type EncryptionLevel } from "../../security/policy.js";
import type { TenantState } from "../state.js";

export interface CheckResult {
  pass: boolean;
  message: string;
  evidence: Record<string, string>;
}

/** A named check, as a rule's `validation_func` names it */
export interface Check {
  name: string;
  run(s: TenantState): CheckResult;
}

const check = (name: string, run: (s: TenantState) => CheckResult): Check => ({ name, run });
const result = (pass: boolean, ok: string, bad: string, evidence: Record<string, unknown>): CheckResult => ({
  pass,
  message: pass ? ok : bad,
  evidence: Object.fromEntries(Object.entries(evidence).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)])),
});

export const mfaRequired = (): Check =>
  check("mfa_required", (s) =>
    result(s.policy.securityFeatures.mfa, "the policy requires MFA of every user", "the policy does not require MFA (security_features.mfa)", {
      "security_features.mfa": s.policy.securityFeatures.mfa,
    }),
  );

export const adminsUseMfa = (): Check =>
  check("admins_use_mfa", (s) =>
    result(s.admins.total > 0 && s.admins.withMfa === s.admins.total, "every admin has MFA on", `${s.admins.total - s.admins.withMfa} of ${s.admins.total} admins have no MFA`, {
      admins: s.admins.total,
      admins_with_mfa: s.admins.withMfa,
    }),
  );

export const allUsersUseMfa = (): Check =>
  check("all_users_use_mfa", (s) =>
    result(s.users.withMfa === s.users.total, "every user has MFA on", `${s.users.total - s.users.withMfa} of ${s.users.total} users have no MFA`, {
      users: s.users.total,
      users_with_mfa: s.users.withMfa,
      policy_requires_mfa: s.policy.securityFeatures.mfa,
    }),
  );

export const keyRotationCurrent = (): Check =>
  check("key_rotation_current", (s) => {
    const age = s.keys.latestAgeDays;
    const pass = age !== undefined && age <= s.policy.keyRotationDays;
    return result(pass, "the newest data key is within the rotation period", age === undefined ? "the tenant has no data key" : "the newest data key is older than the rotation period", {
      latest_version: s.keys.latestVersion,
      latest_key_age_days: age === undefined ? "none" : age.toFixed(1),
      key_rotation_days: s.policy.keyRotationDays,
    });
  });

export const keyRotationPeriodAtMost = (days: number): Check =>
  check(`key_rotation_period_at_most(${days})`, (s) =>
    result(s.policy.keyRotationDays <= days, `keys rotate at least every ${days} days`, `key_rotation_days is ${s.policy.keyRotationDays}, above ${days}`, {
      key_rotation_days: s.policy.keyRotationDays,
      required_at_most: days,
    }),
  );

export const encryptionLevelAtLeast = (level: EncryptionLevel): Check =>
  check(`encryption_level_at_least(${level})`, (s) =>
    result(
      encryptionLevels.indexOf(s.policy.encryptionLevel) >= encryptionLevels.indexOf(level),
      `encryption level ${s.policy.encryptionLevel} meets ${level}`,
      `encryption level ${s.policy.encryptionLevel} is below ${level}`,
      { encryption_level: s.policy.encryptionLevel, required: level },
    ),
  );

export const keysOutsideDatabase = (): Check =>
  check("keys_outside_database", (s) =>
    result(s.keys.keystore !== "memory" && s.keys.latestVersion > 0, "data keys are wrapped by KEKs held outside the database", "the tenant's keys are not held in a persistent keystore outside the database", {
      keystore: s.keys.keystore,
      latest_version: s.keys.latestVersion,
    }),
  );

export const auditLevelAtLeast = (level: AuditLevel): Check =>
  check(`audit_level_at_least(${level})`, (s) =>
    result(levelRank[s.policy.auditLevel] >= levelRank[level], `audit level ${s.policy.auditLevel} meets ${level}`, `audit level ${s.policy.auditLevel} is below ${level}`, {
      audit_level: s.policy.auditLevel,
      required: level,
    }),
  );

export const auditChainIntact = (): Check =>
  check("audit_chain_intact", (s) =>
    result(
      s.audit.ok,
      `the audit chain verifies (${s.audit.checked} events)`,
      `the audit chain is broken at event ${s.audit.firstBroken?.seq}: ${s.audit.firstBroken?.reason}`,
      { events_checked: s.audit.checked, head_seq: s.audit.head?.seq ?? 0, head_hash: s.audit.head?.hash ?? "", first_broken_seq: s.audit.firstBroken?.seq ?? "none" },
    ),
  );

export const retentionAtLeast = (days: number): Check =>
  check(`retention_at_least(${days})`, (s) =>
    result(s.policy.dataRetentionDays >= days, `data is kept ${s.policy.dataRetentionDays} days, at least ${days}`, `data_retention_days ${s.policy.dataRetentionDays} is below ${days}`, {
      data_retention_days: s.policy.dataRetentionDays,
      required_at_least: days,
    }),
  );

export const retentionAtMost = (days: number): Check =>
  check(`retention_at_most(${days})`, (s) =>
    result(s.policy.dataRetentionDays <= days, `data is kept ${s.policy.dataRetentionDays} days, at most ${days}`, `data_retention_days ${s.policy.dataRetentionDays} is above ${days}`, {
      data_retention_days: s.policy.dataRetentionDays,
      required_at_most: days,
    }),
  );

export const networkRestricted = (): Check =>
  check("network_restricted", (s) =>
    result(s.policy.networkRestrictions.length > 0, "callers are limited to the tenant's networks", "network_restrictions is empty: any address may call", {
      network_restrictions: s.policy.networkRestrictions,
    }),
  );

export const passwordMinLength = (n: number): Check =>
  check(`password_min_length(${n})`, (s) =>
    result(s.passwordMinLength >= n, `passwords need at least ${s.passwordMinLength} characters`, `the platform's minimum password length ${s.passwordMinLength} is below ${n}`, {
      password_min_length: s.passwordMinLength,
      required: n,
    }),
  );

export const noDormantAdmins = (): Check =>
  check("no_dormant_admins", (s) =>
    result(s.admins.dormant.length === 0, "every admin signed in within 90 days", `${s.admins.dormant.length} admins have not signed in for 90 days`, {
      dormant_admins: s.admins.dormant,
    }),
  );

export const apiKeysExpire = (): Check =>
  check("api_keys_expire", (s) =>
    result(s.apiKeys.withoutExpiry === 0 && s.apiKeys.dormant === 0, "every live API key expires and is in use", `${s.apiKeys.withoutExpiry} live API keys never expire, ${s.apiKeys.dormant} are unused for 90 days`, {
      live_api_keys: s.apiKeys.live,
      without_expiry: s.apiKeys.withoutExpiry,
      unused_90_days: s.apiKeys.dormant,
    }),
  );

export const fewAdmins = (): Check =>
  check("few_admins", (s) => {
    const limit = Math.max(2, Math.ceil(s.users.total * 0.2));
    return result(s.admins.total <= limit, `${s.admins.total} admins of ${s.users.total} users`, `${s.admins.total} admins of ${s.users.total} users: more than ${limit}`, {
      admins: s.admins.total,
      users: s.users.total,
      limit,
    });
  });

export const accessControlEnforced = (): Check =>
  check("access_control_enforced", (s) =>
    result(s.policy.accessControlLevel === "role_based", "role-based access control, as enforced", `access_control_level ${s.policy.accessControlLevel} is not what the platform enforces`, {
      access_control_level: s.policy.accessControlLevel,
    }),
  );

export const sensitiveFieldsEncrypted = (): Check =>
  check("sensitive_fields_encrypted", (s) =>
    result(s.plaintextFields === 0, "every sensitive column is sealed with the tenant's key", `${s.plaintextFields} sensitive values are still stored in the clear`, {
      plaintext_values: s.plaintextFields,
    }),
  );

export const cryptoShreddingReady = (): Check =>
  check("crypto_shredding_ready", (s) =>
    result(s.keys.latestVersion > 0 && s.keys.shreddedAt === null, "the tenant's data can be erased by destroying its KEK", "the tenant has no keys of its own to destroy", {
      latest_version: s.keys.latestVersion,
      keystore: s.keys.keystore,
    }),
  );
