/**
 * UpdateSecurityPolicy's validation: the fields named by the update mask are taken from the request, checked
 * one by one and then as a whole (a key rotation period the encryption level allows, `ip_whitelist` agreeing
 * with the network restrictions), and every violation is reported at once.
 */
import { isAuditLevel } from "../audit/index.js";
import { invalidArgument, permissionDenied, type FieldViolation } from "../errors/index.js";
import { ISO_3166_ALPHA2 } from "../kyb/iso-3166.js";
import { normalizeCidr } from "../tenants/cidr.js";
import { echo } from "../tenants/update-mask.js";
import {
  accessControlLevels,
  complianceStandards,
  encryptionLevels,
  maxRotationDays,
  securityFeatures,
  type AccessControlLevel,
  type ComplianceStandard,
  type EncryptionLevel,
  type SecurityPolicy,
} from "./policy.js";

/** The request's policy as ts-proto decodes it */
export interface PolicyInput {
  encryptionLevel: string;
  accessControlLevel: string;
  auditLevel: string;
  dataRetentionDays: number;
  complianceStandards: string[];
  securityFeatures: Record<string, boolean>;
  networkRestrictions: string[];
  countryRestrictions: string[];
  keyRotationDays: number;
}

const paths = new Set([
  "encryption_level",
  "access_control_level",
  "audit_level",
  "data_retention_days",
  "compliance_standards",
  "security_features",
  "security_features.mfa",
  "security_features.sso",
  "security_features.ip_whitelist",
  "network_restrictions",
  "country_restrictions",
  "key_rotation_days",
]);

/** Paths only a platform operator may change (the same rule UpdateTenant applies to data_retention_days) */
const operatorPaths = new Set(["data_retention_days"]);

const isOneOf = <T extends string>(list: readonly T[], v: string): v is T => (list as readonly string[]).includes(v);

/** The policy after applying `mask` from `input` to `current`; INVALID_ARGUMENT lists every problem */
export function applyPolicyUpdate(current: SecurityPolicy, input: PolicyInput, mask: readonly string[], isOperator: boolean): SecurityPolicy {
  if (mask.length === 0) throw invalidArgument([{ field: "update_mask", description: "must name at least one field" }]);
  const unknown = mask.filter((p) => !paths.has(p));
  if (unknown.length > 0) throw invalidArgument(unknown.map((p) => ({ field: "update_mask", description: `unknown field '${echo(p)}'` })));
  const forbidden = mask.filter((p) => operatorPaths.has(p));
  if (!isOperator && forbidden.length > 0) throw permissionDenied(`only a platform operator may change ${forbidden.join(", ")}`);

  const v: FieldViolation[] = [];
  const bad = (field: string, description: string): void => void v.push({ field: `policy.${field}`, description });
  const next: SecurityPolicy = { ...current, securityFeatures: { ...current.securityFeatures } };
  const has = (p: string): boolean => mask.includes(p);

  if (has("encryption_level")) {
    if (isOneOf(encryptionLevels, input.encryptionLevel)) next.encryptionLevel = input.encryptionLevel as EncryptionLevel;
    else bad("encryption_level", `must be one of ${encryptionLevels.join(", ")}`);
  }
  if (has("access_control_level")) {
    if (isOneOf(accessControlLevels, input.accessControlLevel)) next.accessControlLevel = input.accessControlLevel as AccessControlLevel;
    else bad("access_control_level", `must be one of ${accessControlLevels.join(", ")}`);
  }
  if (has("audit_level")) {
    if (isAuditLevel(input.auditLevel)) next.auditLevel = input.auditLevel;
    else bad("audit_level", "must be one of basic, detailed, comprehensive");
  }
  if (has("data_retention_days")) {
    const d = input.dataRetentionDays;
    if (Number.isInteger(d) && d >= 1 && d <= 36_500) next.dataRetentionDays = d;
    else bad("data_retention_days", "must be an integer from 1 to 36500");
  }
  if (has("compliance_standards")) {
    const wrong = input.complianceStandards.filter((s) => !isOneOf(complianceStandards, s));
    if (wrong.length > 0) bad("compliance_standards", `unknown standards: ${wrong.map(echo).join(", ")} (known: ${complianceStandards.join(", ")})`);
    else next.complianceStandards = complianceStandards.filter((s): s is ComplianceStandard => input.complianceStandards.includes(s));
  }
  const whole = has("security_features");
  const unknownFeatures = Object.keys(input.securityFeatures).filter((f) => !isOneOf(securityFeatures, f));
  if (whole && unknownFeatures.length > 0) bad("security_features", `unknown features: ${unknownFeatures.map(echo).join(", ")} (known: ${securityFeatures.join(", ")})`);
  for (const f of ["mfa", "sso"] as const) {
    if (whole || has(`security_features.${f}`)) next.securityFeatures[f] = input.securityFeatures[f] === true;
  }
  if (has("network_restrictions")) {
    if (input.networkRestrictions.length > 100) bad("network_restrictions", "at most 100 CIDR blocks");
    const cidrs = input.networkRestrictions.map((c) => ({ c, n: normalizeCidr(c) }));
    for (const { c, n } of cidrs) if (n === null) bad("network_restrictions", `'${echo(c)}' is not an IPv4 or IPv6 CIDR block`);
    next.networkRestrictions = [...new Set(cidrs.map(({ n }) => n ?? ""))];
  }
  if (has("country_restrictions")) {
    const codes = input.countryRestrictions.map((c) => c.trim().toUpperCase());
    const wrong = codes.filter((c) => !ISO_3166_ALPHA2.has(c));
    if (wrong.length > 0) bad("country_restrictions", `not ISO 3166-1 alpha-2 codes: ${wrong.map(echo).join(", ")}`);
    else next.countryRestrictions = [...new Set(codes)].sort();
  }
  if (has("key_rotation_days")) {
    const d = input.keyRotationDays;
    if (Number.isInteger(d) && d >= 1) next.keyRotationDays = d;
    else bad("key_rotation_days", "must be a whole number of days, at least 1");
  }
  // Whole-policy rules, checked on the result so that changing one field cannot break another.
  const max = maxRotationDays[next.encryptionLevel];
  if (next.keyRotationDays > max) {
    bad("key_rotation_days", `encryption level ${next.encryptionLevel} rotates keys at least every ${max} days (got ${next.keyRotationDays})`);
  }
  next.securityFeatures.ip_whitelist = next.networkRestrictions.length > 0;
  const askedWhitelist = whole || has("security_features.ip_whitelist") ? input.securityFeatures.ip_whitelist : undefined;
  if (askedWhitelist !== undefined && askedWhitelist !== next.securityFeatures.ip_whitelist) {
    bad(
      "security_features.ip_whitelist",
      "follows network_restrictions (true exactly when it lists CIDR blocks): set network_restrictions instead",
    );
  }
  if (v.length > 0) throw invalidArgument(v);
  return next;
}
