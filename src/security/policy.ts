/**
 * A tenant's security policy: every field of the seed's SecurityPolicy, plus the key rotation period of its
 * TenantEncryptor and the country part of its network restrictions kept apart. Where each field lives:
 *
 *   data_retention_days   tenants.data_retention_days (the one column the retention job reads)
 *   network_restrictions  tenants.network_restrictions (the one column the proxy's admission enforces)
 *   everything else       tenants.security_policy (JSONB), fields never set taking the plan's defaults
 *
 * Enforcement is listed per field in docs/security.md; `notEnforced` names what a policy asks for that the
 * platform does not (yet) enforce, so nothing is silently accepted as if it were.
 */
import { levelRank, type AuditLevel } from "../audit/index.js";
import type { PlanType } from "../plans/index.js";

export const encryptionLevels = ["standard", "enhanced", "military"] as const;
export type EncryptionLevel = (typeof encryptionLevels)[number];
export const accessControlLevels = ["basic", "role_based", "attribute_based"] as const;
export type AccessControlLevel = (typeof accessControlLevels)[number];
export const complianceStandards = ["SOC2", "PCI-DSS", "GDPR", "HIPAA"] as const;
export type ComplianceStandard = (typeof complianceStandards)[number];
export const securityFeatures = ["mfa", "sso", "ip_whitelist"] as const;
export type SecurityFeature = (typeof securityFeatures)[number];

/**
 * Every level uses AES-256-GCM (no stronger cipher is in use anywhere); levels bound how long one data key
 * may stay the newest, and the bound is enforced on update.
 */
export const maxRotationDays: Readonly<Record<EncryptionLevel, number>> = { standard: 365, enhanced: 90, military: 30 };

export interface SecurityPolicy {
  tenantId: string;
  encryptionLevel: EncryptionLevel;
  accessControlLevel: AccessControlLevel;
  auditLevel: AuditLevel;
  dataRetentionDays: number;
  complianceStandards: ComplianceStandard[];
  /** mfa: every user must present a TOTP code; ip_whitelist: derived, true while network_restrictions is non-empty */
  securityFeatures: Record<SecurityFeature, boolean>;
  /** CIDR blocks; empty: any address */
  networkRestrictions: string[];
  /** ISO 3166-1 alpha-2 codes; stored and shown, NOT enforced (no geolocation in the proxy) */
  countryRestrictions: string[];
  /** Automatic data-key rotation period */
  keyRotationDays: number;
  updatedAt: Date | undefined;
  updatedBy: string;
}

/** What a plan starts a tenant with */
export type PolicyDefaults = Pick<SecurityPolicy, "encryptionLevel" | "accessControlLevel" | "auditLevel" | "complianceStandards" | "keyRotationDays"> & {
  mfa: boolean;
};

export const planPolicyDefaults: Readonly<Record<PlanType, PolicyDefaults>> = {
  free: { encryptionLevel: "standard", accessControlLevel: "role_based", auditLevel: "basic", complianceStandards: [], keyRotationDays: 365, mfa: false },
  basic: { encryptionLevel: "standard", accessControlLevel: "role_based", auditLevel: "basic", complianceStandards: [], keyRotationDays: 180, mfa: false },
  professional: { encryptionLevel: "enhanced", accessControlLevel: "role_based", auditLevel: "detailed", complianceStandards: ["SOC2"], keyRotationDays: 90, mfa: false },
  enterprise: { encryptionLevel: "military", accessControlLevel: "role_based", auditLevel: "comprehensive", complianceStandards: ["SOC2", "GDPR"], keyRotationDays: 30, mfa: false },
};

/** The JSON kept in tenants.security_policy (snake_case, every field optional: absent takes the plan default) */
export interface StoredPolicy {
  encryption_level?: string;
  access_control_level?: string;
  audit_level?: string;
  compliance_standards?: string[];
  security_features?: Record<string, boolean>;
  country_restrictions?: string[];
  key_rotation_days?: number;
  updated_at?: string;
  updated_by?: string;
}

/** The tenant columns a policy is read from */
export interface PolicyColumns {
  id: string;
  plan_type: string;
  security_policy: Record<string, unknown> | null;
  data_retention_days: number;
  network_restrictions: string[] | null;
}

const oneOf = <T extends string>(list: readonly T[], value: unknown, fallback: T): T =>
  typeof value === "string" && (list as readonly string[]).includes(value) ? (value as T) : fallback;

/** The effective policy: stored fields over the plan's defaults (unknown stored values fall back too) */
export function effectivePolicy(row: PolicyColumns): SecurityPolicy {
  const d = planPolicyDefaults[row.plan_type as PlanType] ?? planPolicyDefaults.free;
  const s = (row.security_policy ?? {}) as StoredPolicy;
  const restrictions = [...(row.network_restrictions ?? [])];
  const features = s.security_features ?? {};
  return {
    tenantId: row.id,
    encryptionLevel: oneOf(encryptionLevels, s.encryption_level, d.encryptionLevel),
    accessControlLevel: oneOf(accessControlLevels, s.access_control_level, d.accessControlLevel),
    auditLevel: oneOf(["basic", "detailed", "comprehensive"] as const, s.audit_level, d.auditLevel),
    dataRetentionDays: row.data_retention_days,
    complianceStandards: Array.isArray(s.compliance_standards)
      ? complianceStandards.filter((c) => s.compliance_standards?.includes(c))
      : [...d.complianceStandards],
    securityFeatures: { mfa: typeof features.mfa === "boolean" ? features.mfa : d.mfa, sso: features.sso === true, ip_whitelist: restrictions.length > 0 },
    networkRestrictions: restrictions,
    countryRestrictions: Array.isArray(s.country_restrictions) ? s.country_restrictions.filter((c) => typeof c === "string") : [],
    keyRotationDays: typeof s.key_rotation_days === "number" && s.key_rotation_days > 0 ? s.key_rotation_days : d.keyRotationDays,
    updatedAt: typeof s.updated_at === "string" ? new Date(s.updated_at) : undefined,
    updatedBy: typeof s.updated_by === "string" ? s.updated_by : "",
  };
}

/** The JSON to store for a policy (the two column-backed fields and the derived flag are left out) */
export function toStoredPolicy(p: SecurityPolicy): StoredPolicy {
  return {
    encryption_level: p.encryptionLevel,
    access_control_level: p.accessControlLevel,
    audit_level: p.auditLevel,
    compliance_standards: [...p.complianceStandards],
    security_features: { mfa: p.securityFeatures.mfa, sso: p.securityFeatures.sso },
    country_restrictions: [...p.countryRestrictions],
    key_rotation_days: p.keyRotationDays,
    ...(p.updatedAt === undefined ? {} : { updated_at: p.updatedAt.toISOString() }),
    updated_by: p.updatedBy,
  };
}

/** The settings of `p` the platform stores and shows but does not enforce, each with why */
export function notEnforced(p: SecurityPolicy): string[] {
  const out: string[] = [];
  if (p.securityFeatures.sso) out.push("security_features.sso: single sign-on is not built; users sign in with password (and TOTP)");
  if (p.accessControlLevel === "attribute_based") out.push("access_control_level=attribute_based: attribute rules are not evaluated; role-based checks apply");
  if (p.accessControlLevel === "basic") out.push("access_control_level=basic: enforced as role_based (roles plus per-user grants), which is stricter");
  if (p.countryRestrictions.length > 0) out.push("country_restrictions: the proxy has no geolocation; only network_restrictions (CIDR) are enforced");
  return out;
}

/** True when the tenant's audit level records at least `level` */
export const auditAtLeast = (p: Pick<SecurityPolicy, "auditLevel">, level: AuditLevel): boolean => levelRank[p.auditLevel] >= levelRank[level];
