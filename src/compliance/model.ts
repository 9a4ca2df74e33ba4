/**
 * The seed's compliance types: a rule (id, name, standard, category, description, requirements, validation
 * function, severity, auto-remediation), a finding per rule, and the report with status, score, findings,
 * recommendations, generated_at and valid_until.
 */
import type { ComplianceStandard } from "../security/policy.js";

export type Severity = "low" | "medium" | "high" | "critical";
export type Category = "access_control" | "data_protection" | "audit" | "network" | "data_retention" | "key_management";

/**
 * What a failing rule takes off the score (1.0 for a tenant that passes everything). A critical failure costs
 * ten low ones; the score stops at 0.
 */
export const severityWeights: Readonly<Record<Severity, number>> = { low: 0.02, medium: 0.05, high: 0.1, critical: 0.2 };

export interface ComplianceRule {
  id: string;
  name: string;
  standard: ComplianceStandard;
  category: Category;
  description: string;
  /** The clauses of the standard the rule stands for */
  requirements: string[];
  /** The check that evaluates it, with its parameter (e.g. `audit_level_at_least(comprehensive)`) */
  validationFunc: string;
  severity: Severity;
  /** A safe fix runs when the rule fails (and is audited); only rules whose fix changes nothing but keys */
  autoRemediation: boolean;
  /** What the tenant should do when the rule fails */
  recommendation: string;
}

export interface ComplianceFinding {
  ruleId: string;
  ruleName: string;
  category: Category;
  severity: Severity;
  status: "compliant" | "non_compliant";
  message: string;
  evidence: Record<string, string>;
  /** What an auto-remediation did, when one ran */
  remediation: string;
}

export type ReportStatus = "compliant" | "partial" | "non_compliant";

export interface ComplianceReport {
  reportId: string;
  tenantId: string;
  standard: ComplianceStandard;
  status: ReportStatus;
  score: number;
  findings: ComplianceFinding[];
  recommendations: string[];
  generatedAt: Date;
  validUntil: Date;
  generatedBy: string;
}

/** How long a report is valid */
export const REPORT_VALIDITY_MS = 30 * 24 * 60 * 60_000;
