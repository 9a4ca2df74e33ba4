/**
 * The rules engine: evaluates a standard's rules against a tenant's state, runs the safe auto-remediations of
 * failing rules (each audited, in the report's own transaction), and scores the result as the seed does:
 * start at 1.0, take off each failing rule's severity weight.
 *
 * Status: compliant when every rule passes; non_compliant when any high or critical rule fails; partial when
 * only low or medium rules fail.
 */
import type { ComplianceFinding, ReportStatus } from "./model.js";
import { severityWeights } from "./model.js";
import type { RuleWithCheck } from "./rules/index.js";
import type { TenantState } from "./state.js";

export function evaluate(rules: readonly RuleWithCheck[], state: TenantState): ComplianceFinding[] {
  return rules.map((rule) => {
    const r = rule.check.run(state);
    return {
      ruleId: rule.id,
      ruleName: rule.name,
      category: rule.category,
      severity: rule.severity,
      status: r.pass ? "compliant" : "non_compliant",
      message: r.message,
      evidence: r.evidence,
      remediation: "",
    };
  });
}

export function scoreOf(findings: readonly ComplianceFinding[]): { score: number; status: ReportStatus } {
  const failing = findings.filter((f) => f.status !== "compliant");
  const lost = failing.reduce((sum, f) => sum + severityWeights[f.severity], 0);
  const score = Math.max(0, Math.round((1 - lost) * 10_000) / 10_000);
  const status: ReportStatus =
    failing.length === 0 ? "compliant" : failing.some((f) => f.severity === "high" || f.severity === "critical") ? "non_compliant" : "partial";
  return { score, status };
}

/** One recommendation per failing rule, most severe first */
export function recommendationsOf(rules: readonly RuleWithCheck[], findings: readonly ComplianceFinding[]): string[] {
  const order = { critical: 0, high: 1, medium: 2, low: 3 } as const;
  return findings
    .filter((f) => f.status !== "compliant")
    .sort((a, b) => order[a.severity] - order[b.severity])
    .map((f) => `[${f.severity}] ${f.ruleName}: ${rules.find((r) => r.id === f.ruleId)?.recommendation ?? f.message}`);
}
