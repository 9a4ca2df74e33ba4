/** Compliance rules, reports and their service (docs/compliance.md) */
export { complianceSlice } from "./slice.js";
export { evaluate, recommendationsOf, scoreOf } from "./engine.js";
export { rulesByStandard, type RuleWithCheck } from "./rules/index.js";
export { readTenantState, DORMANT_DAYS, type TenantState } from "./state.js";
export { REPORT_VALIDITY_MS, severityWeights, type Category, type ComplianceFinding, type ComplianceReport, type ComplianceRule, type ReportStatus, type Severity } from "./model.js";
