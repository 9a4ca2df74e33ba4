import { status, type Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, totpCode } from "../src/auth/index.js";
import { scoreOf, type ComplianceFinding } from "../src/compliance/index.js";
import type { ComplianceServiceClient } from "../src/gen/tenantmesh/v1/compliance.js";
import type { SecurityServiceClient } from "../src/gen/tenantmesh/v1/security.js";
import type { ProvisionTenantResponse, TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { complianceClient, securityClient, unaryCall } from "../src/security/testing.js";
import { bearer, failure, provision, tenantClient } from "../src/tenants/testing.js";
import { rpc as userRpc, userClient } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * ComplianceService through the real control plane: rules for four standards, reports evaluated against the
 * tenant's real state (a finding clears and the score rises once the tenant fixes it), auto-remediation of an
 * overdue key, stored and listed reports, and tenant B kept out of A's reports.
 */
const DAY = 86_400_000;
const clock = new ManualClock(Math.floor(Date.parse("2026-11-29T12:00:00Z") / 30_000) * 30_000);
let tcp: TestControlPlane;
let compliance: ComplianceServiceClient;
let sec: SecurityServiceClient;
let tenants: TenantServiceClient;
let users: UserServiceClient;
let a: ProvisionTenantResponse;
let b: ProvisionTenantResponse;

const key = (t: ProvisionTenantResponse): Metadata => bearer(t.apiKey);
const generate = (md: Metadata, standard: string, tenantId = "") => unaryCall(compliance, compliance.generateReport, { tenantId, standard }, md);
const finding = (findings: Array<{ ruleId: string; status: string }>, ruleId: string) => findings.find((f) => f.ruleId === ruleId);

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  compliance = complianceClient(tcp.address);
  sec = securityClient(tcp.address);
  tenants = tenantClient(tcp.address);
  users = userClient(tcp.address);
  a = await provision(tenants, tcp.adminToken, { planType: "professional" });
  b = await provision(tenants, tcp.adminToken, { planType: "free" });
});
afterAll(async () => {
  compliance.close();
  sec.close();
  tenants.close();
  users.close();
  await tcp.close();
});

describe("rules", () => {
  it.each(["SOC2", "PCI-DSS", "GDPR", "HIPAA"])("%s has at least 8 rules with the seed's fields", async (standard) => {
    const { rules } = await unaryCall(compliance, compliance.listRules, { standard }, key(a));
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const r of rules) {
      expect(r.standard).toBe(standard);
      expect(r.id).not.toBe("");
      expect(r.requirements.length).toBeGreaterThan(0);
      expect(r.validationFunc).toMatch(/^[a-z_]+(\(.+\))?$/);
      expect(["low", "medium", "high", "critical"]).toContain(r.severity);
      expect(["access_control", "data_protection", "audit", "network", "data_retention", "key_management"]).toContain(r.category);
    }
    expect(rules.some((r) => r.autoRemediation)).toBe(true);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it("an unknown standard is INVALID_ARGUMENT", async () => {
    expect((await failure(unaryCall(compliance, compliance.listRules, { standard: "ISO27001" }, key(a)))).code).toBe(status.INVALID_ARGUMENT);
  });
});

describe("scoring", () => {
  const f = (severity: ComplianceFinding["severity"], ok: boolean): ComplianceFinding => ({
    ruleId: severity,
    ruleName: severity,
    category: "audit",
    severity,
    status: ok ? "compliant" : "non_compliant",
    message: "",
    evidence: {},
    remediation: "",
  });
  it("is compliant when all pass, partial when only low or medium fail, non_compliant on any high or critical", () => {
    expect(scoreOf([f("high", true), f("low", true)])).toEqual({ score: 1, status: "compliant" });
    expect(scoreOf([f("high", true), f("low", false), f("medium", false)])).toEqual({ score: 0.93, status: "partial" });
    expect(scoreOf([f("critical", false), f("low", true)])).toEqual({ score: 0.8, status: "non_compliant" });
    expect(scoreOf(Array.from({ length: 9 }, () => f("critical", false))).score).toBe(0);
  });
});

describe("reports", () => {
  it("a finding clears and the score rises once the tenant turns on MFA for its admins", async () => {
    const before = await generate(key(a), "SOC2");
    expect(before.status).toBe("non_compliant");
    expect(finding(before.findings, "SOC2-CC6.1-ADMIN-MFA")).toMatchObject({ status: "non_compliant", evidence: { admins: "1", admins_with_mfa: "0" } });
    expect(finding(before.findings, "SOC2-CC6.1-MFA")?.status).toBe("non_compliant");
    expect(before.recommendations[0]).toMatch(/^\[high\]/);
    expect(before.validUntil!.getTime() - before.generatedAt!.getTime()).toBe(30 * DAY);

    const session = await userRpc(users, users.authenticate, { tenantSlug: a.tenant?.slug ?? "", email: a.adminUser?.email ?? "", password: a.adminPassword, totpCode: "" });
    const admin = bearer(session.sessionToken);
    const { secret } = await userRpc(users, users.enrollMfa, { tenantId: "", userId: "", code: "" }, admin);
    await userRpc(users, users.confirmMfa, { tenantId: "", userId: "", code: totpCode(secret, clock.now()) }, admin);
    await unaryCall(sec, sec.updateSecurityPolicy, {
      tenantId: "",
      policy: { tenantId: "", encryptionLevel: "", accessControlLevel: "", auditLevel: "", dataRetentionDays: 0, complianceStandards: [], securityFeatures: { mfa: true }, networkRestrictions: [], countryRestrictions: [], keyRotationDays: 0, updatedAt: undefined, updatedBy: "", notEnforced: [] },
      updateMask: ["security_features.mfa"],
    }, admin);

    const after = await generate(key(a), "SOC2");
    expect(finding(after.findings, "SOC2-CC6.1-ADMIN-MFA")?.status).toBe("compliant");
    expect(finding(after.findings, "SOC2-CC6.1-MFA")?.status).toBe("compliant");
    expect(after.score).toBeGreaterThan(before.score);
    expect(after).toMatchObject({ status: "compliant", score: 1, recommendations: [] });
  });

  it("stores every report: GetReport and ListReports (newest first, by standard, paged)", async () => {
    clock.advance(1_000); // a later report, so "newest first" has one answer
    const gdpr = await generate(key(a), "GDPR");
    const got = await unaryCall(compliance, compliance.getReport, { tenantId: "", reportId: gdpr.reportId }, key(a));
    expect(got).toEqual(gdpr);
    const soc2 = await unaryCall(compliance, compliance.listReports, { tenantId: "", standard: "SOC2", pageSize: 0, pageToken: "" }, key(a));
    expect(soc2.reports.length).toBe(2);
    expect(soc2.reports[0]!.generatedAt!.getTime()).toBeGreaterThanOrEqual(soc2.reports[1]!.generatedAt!.getTime());
    const page1 = await unaryCall(compliance, compliance.listReports, { tenantId: "", standard: "", pageSize: 2, pageToken: "" }, key(a));
    const page2 = await unaryCall(compliance, compliance.listReports, { tenantId: "", standard: "", pageSize: 2, pageToken: page1.nextPageToken }, key(a));
    expect(page1.reports[0]?.reportId).toBe(gdpr.reportId);
    expect(new Set([...page1.reports, ...page2.reports].map((r) => r.reportId)).size).toBe(3);
  });

  it("rotates an overdue key as an audited auto-remediation; a dormant admin makes it partial", async () => {
    clock.advance(100 * DAY);
    const report = await generate(key(a), "SOC2");
    expect(finding(report.findings, "SOC2-CC6.7-KEY-ROTATION")).toMatchObject({ status: "compliant", remediation: "rotated the tenant's data key to version 2" });
    expect(finding(report.findings, "SOC2-CC6.2-DORMANT")?.status).toBe("non_compliant");
    expect(report.status).toBe("partial");
    expect((await unaryCall(sec, sec.getKeyInfo, { tenantId: "" }, key(a))).latestVersion).toBe(2);
    const events = await unaryCall(sec, sec.listAuditEvents, { tenantId: "", pageSize: 100, pageToken: "", action: "compliance.remediated" }, key(a));
    expect(JSON.parse(events.events[0]?.detailJson ?? "{}")).toMatchObject({ rule_ids: ["SOC2-CC6.7-KEY-ROTATION"], standard: "SOC2" });
  });

  it("checks the free tenant's real state against HIPAA", async () => {
    const r = await generate(key(b), "HIPAA");
    expect(r.status).toBe("non_compliant");
    expect(finding(r.findings, "HIPAA-312a2iv-ENCRYPTION")).toMatchObject({ status: "non_compliant", evidence: { encryption_level: "standard", required: "enhanced" } });
    expect(finding(r.findings, "HIPAA-316b2-RETENTION")).toMatchObject({ status: "compliant", evidence: { data_retention_days: "2555" } });
    expect(finding(r.findings, "HIPAA-312c1-INTEGRITY")?.status).toBe("compliant");
    expect(finding(r.findings, "HIPAA-312a2iv-FIELDS")?.status).toBe("compliant");
    const order = r.recommendations.map((x) => x.slice(1, x.indexOf("]")));
    expect(order).toEqual([...order].sort((p, q) => ["critical", "high", "medium", "low"].indexOf(p) - ["critical", "high", "medium", "low"].indexOf(q)));
  });
});

describe("tenant B against tenant A", () => {
  it("cannot generate, read or list A's reports", async () => {
    const aId = a.tenant?.id ?? "";
    const mine = await unaryCall(compliance, compliance.listReports, { tenantId: "", standard: "", pageSize: 1, pageToken: "" }, key(a));
    const reportId = mine.reports[0]?.reportId ?? "";
    expect((await failure(generate(key(b), "SOC2", aId))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(unaryCall(compliance, compliance.getReport, { tenantId: aId, reportId }, key(b)))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(unaryCall(compliance, compliance.listReports, { tenantId: aId, standard: "", pageSize: 10, pageToken: "" }, key(b)))).code).toBe(status.PERMISSION_DENIED);
    // Its own tenant, A's report id: not found, exactly as a report that does not exist.
    expect((await failure(unaryCall(compliance, compliance.getReport, { tenantId: "", reportId }, key(b)))).code).toBe(status.NOT_FOUND);
  });
});
