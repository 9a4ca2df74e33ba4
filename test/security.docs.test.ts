import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { auditActions } from "../src/audit/index.js";
import { rulesByStandard } from "../src/compliance/index.js";

/** The reference docs keep up with the code: every audit action, policy field and compliance rule is documented */
const doc = (name: string): string => readFileSync(new URL(`../docs/${name}`, import.meta.url), "utf8");

describe("docs/security.md", () => {
  const text = doc("security.md");
  it("lists every audit action", () => {
    const missing = Object.keys(auditActions).filter((a) => !text.includes(`\`${a}\``));
    expect(missing, `audit actions missing from docs/security.md: ${missing.join(", ")}`).toEqual([]);
  });

  it("lists every policy field with its enforcement, the unenforced ones marked", () => {
    for (const field of ["encryption_level", "access_control_level", "audit_level", "data_retention_days", "compliance_standards", "security_features.mfa", "security_features.sso", "security_features.ip_whitelist", "network_restrictions", "country_restrictions", "key_rotation_days"]) {
      expect(text, field).toContain(`| \`${field}\` |`);
    }
    expect(text).toMatch(/\*\*`attribute_based`: not enforced\*\*/);
    expect(text).toMatch(/\| `security_features.sso` .*\*\*not enforced\*\*/);
    expect(text).toMatch(/\| `country_restrictions` .*\*\*not enforced\*\*/);
  });
});

describe("docs/compliance.md", () => {
  it("lists every rule of every standard", () => {
    const text = doc("compliance.md");
    const missing = Object.values(rulesByStandard)
      .flat()
      .filter((r) => !text.includes(`| \`${r.id}\` |`))
      .map((r) => r.id);
    expect(missing, `rules missing from docs/compliance.md: ${missing.join(", ")}`).toEqual([]);
  });
});
