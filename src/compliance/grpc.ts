/**
 * tenantmesh.v1.ComplianceService over the RpcKit chain:
 *
 *   ListRules                    any authenticated caller (rules are the same for everyone)
 *   GenerateReport               compliance:write on the tenant
 *   GetReport, ListReports       compliance:read on the tenant
 */
import { z } from "zod";
import { principalTenant, type Permission, type Principal } from "../authz/index.js";
import {
  ComplianceServiceService,
  type ComplianceReport as ReportMessage,
  type ComplianceRule as RuleMessage,
  type ComplianceServiceServer,
} from "../gen/tenantmesh/v1/compliance.js";
import { parseRequest, type Policy, type RpcKit } from "../grpc/index.js";
import { requireUuid } from "../tenants/service.js";
import type { ComplianceReport } from "./model.js";
import { rulesByStandard, type RuleWithCheck } from "./rules/index.js";
import { generateReport, getReport, listReports, parseStandard, type ComplianceDeps } from "./service.js";

export { ComplianceServiceService };

const listSchema = z.object({
  standard: z.string().max(20),
  pageSize: z.number().int().min(0, "must not be negative"),
  pageToken: z.string().max(1_024),
});

function onTenant<Req extends { tenantId: string }>(permission: Permission): Policy<Req> {
  return {
    kind: "tenant",
    permission,
    tenant: (req: Req, p: Principal) => (req.tenantId === "" ? principalTenant(p) : requireUuid(req.tenantId, "tenant_id")),
  };
}

const toRuleMessage = (r: RuleWithCheck): RuleMessage => ({
  id: r.id,
  name: r.name,
  standard: r.standard,
  category: r.category,
  description: r.description,
  requirements: [...r.requirements],
  validationFunc: r.validationFunc,
  severity: r.severity,
  autoRemediation: r.autoRemediation,
});

export const toReportMessage = (r: ComplianceReport): ReportMessage => ({
  reportId: r.reportId,
  tenantId: r.tenantId,
  standard: r.standard,
  status: r.status,
  score: r.score,
  findings: r.findings.map((f) => ({ ...f, evidence: { ...f.evidence } })),
  recommendations: [...r.recommendations],
  generatedAt: r.generatedAt,
  validUntil: r.validUntil,
  generatedBy: r.generatedBy,
});

export function complianceServiceImplementation(kit: RpcKit, deps: ComplianceDeps): ComplianceServiceServer {
  return {
    listRules: kit.unary("ComplianceService/ListRules", { kind: "authenticated" }, async (req) => ({
      rules: rulesByStandard[parseStandard(req.standard)].map(toRuleMessage),
    })),

    generateReport: kit.unary("ComplianceService/GenerateReport", onTenant("compliance:write"), async (req, ctx) =>
      toReportMessage(await generateReport(deps, ctx, parseStandard(req.standard))),
    ),

    getReport: kit.unary("ComplianceService/GetReport", onTenant("compliance:read"), async (req, ctx) =>
      toReportMessage(await getReport(ctx, requireUuid(req.reportId, "report_id"))),
    ),

    listReports: kit.unary("ComplianceService/ListReports", onTenant("compliance:read"), async (req, ctx) => {
      const page = await listReports(ctx, parseRequest(listSchema, req));
      return { reports: page.reports.map(toReportMessage), nextPageToken: page.nextPageToken };
    }),
  };
}
