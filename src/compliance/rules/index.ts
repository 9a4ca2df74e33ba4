import type { ComplianceStandard } from "../../security/policy.js";
import type { RuleWithCheck } from "./define.js";
import { gdprRules } from "./gdpr.js";
import { hipaaRules } from "./hipaa.js";
import { pciDssRules } from "./pci-dss.js";
import { soc2Rules } from "./soc2.js";

export type { RuleWithCheck } from "./define.js";

/** Every rule, by standard */
export const rulesByStandard: Readonly<Record<ComplianceStandard, readonly RuleWithCheck[]>> = {
  SOC2: soc2Rules,
  "PCI-DSS": pciDssRules,
  GDPR: gdprRules,
  HIPAA: hipaaRules,
};
