import type { ComplianceStandard } from "../../security/policy.js";
import type { Category, ComplianceRule, Severity } from "../model.js";
import type { Check } from "./checks.js";

/** A rule with the check that evaluates it */
export interface RuleWithCheck extends ComplianceRule {
  check: Check;
  /** Only for autoRemediation rules: the safe fix (see ../remediation.ts) */
  remediation?: "rotate_key";
}

interface RuleSpec {
  id: string;
  name: string;
  category: Category;
  description: string;
  requirements: string[];
  severity: Severity;
  recommendation: string;
  check: Check;
  remediation?: "rotate_key";
}

/** The rules of one standard: `validation_func` is the check's name, auto-remediation where a fix exists */
export function defineRules(standard: ComplianceStandard, specs: readonly RuleSpec[]): RuleWithCheck[] {
  return specs.map((s) => ({
    ...s,
    standard,
    validationFunc: s.check.name,
    autoRemediation: s.remediation !== undefined,
  }));
}
