/**
 * ComplianceService's operations: GenerateReport evaluates, remediates, scores and stores in one tenant
 * transaction, so the report, its remediations and their audit events commit (or roll back) together.
 */
import { randomUUID } from "node:crypto";
import { describePrincipal } from "../authz/index.js";
import { invalidArgument, notFound } from "../errors/index.js";
import type { RpcContext } from "../grpc/index.js";
import { createdAtIdCursor, decodePageToken, encodePageToken } from "../grpc/page-token.js";
import type { SecurityRuntime } from "../security/index.js";
import { complianceStandards, type ComplianceStandard } from "../security/policy.js";
import { tenantOf } from "../security/service.js";
import { evaluate, recommendationsOf, scoreOf } from "./engine.js";
import { REPORT_VALIDITY_MS, type ComplianceReport } from "./model.js";
import { rulesByStandard } from "./rules/index.js";
import { readTenantState } from "./state.js";
import { findReport, insertReport, listReports as listReportRows } from "./store.js";

export interface ComplianceDeps {
  runtime: SecurityRuntime;
  now(): Date;
}

/** A standard's name, or INVALID_ARGUMENT listing the known ones */
export function parseStandard(value: string): ComplianceStandard {
  const found = complianceStandards.find((s) => s === value.toUpperCase());
  if (found === undefined) throw invalidArgument([{ field: "standard", description: `must be one of ${complianceStandards.join(", ")}` }]);
  return found;
}

export async function generateReport(deps: ComplianceDeps, ctx: RpcContext, standard: ComplianceStandard): Promise<ComplianceReport> {
  const tenantId = tenantOf(ctx);
  const rules = rulesByStandard[standard];
  const now = deps.now();
  const { keyring, audit } = deps.runtime;
  return ctx.inTenant(async (trx) => {
    if ((await trx("tenants").where({ id: tenantId }).first("id")) === undefined) throw notFound(`tenant ${tenantId}`);
    let findings = evaluate(rules, await readTenantState(trx, tenantId, { keyring, audit, now }));
    // Rules failing for an overdue key share one fix: one rotation, recorded on each of them.
    const overdue = rules.filter((r) => r.remediation === "rotate_key" && findings.some((f) => f.ruleId === r.id && f.status === "non_compliant"));
    const remediations: string[] = [];
    if (overdue.length > 0) {
      // Safe: a new key version changes no data, and every older version still decrypts.
      const version = await keyring.rotate(trx, tenantId);
      const what = `rotated the tenant's data key to version ${version}`;
      remediations.push(what);
      await ctx.audit(
        { action: "compliance.remediated", target: `key:v${version}`, essential: true, detail: { rule_ids: overdue.map((r) => r.id), standard, remediation: what } },
        trx,
      );
      // The findings show the state after the fix; each fixed one says what was done.
      const fixed = new Set(overdue.map((r) => r.id));
      findings = evaluate(rules, await readTenantState(trx, tenantId, { keyring, audit, now })).map((f) => (fixed.has(f.ruleId) ? { ...f, remediation: what } : f));
    }
    const { score, status } = scoreOf(findings);
    const report: ComplianceReport = {
      reportId: randomUUID(),
      tenantId,
      standard,
      status,
      score,
      findings,
      recommendations: recommendationsOf(rules, findings),
      generatedAt: now,
      validUntil: new Date(now.getTime() + REPORT_VALIDITY_MS),
      generatedBy: describePrincipal(ctx.principal),
    };
    await insertReport(trx, report, remediations);
    await ctx.audit(
      { action: "compliance.report_generated", target: `compliance_report:${report.reportId}`, detail: { standard, status, score, failing: findings.filter((f) => f.status !== "compliant").map((f) => f.ruleId) } },
      trx,
    );
    return report;
  });
}

export async function getReport(ctx: RpcContext, reportId: string): Promise<ComplianceReport> {
  const tenantId = tenantOf(ctx);
  const report = await ctx.inTenant((trx) => findReport(trx, tenantId, reportId));
  if (report === undefined) throw notFound(`compliance report ${reportId}`);
  return report;
}

export const DEFAULT_REPORT_PAGE = 50;
export const MAX_REPORT_PAGE = 200;

export async function listReports(ctx: RpcContext, input: { standard: string; pageSize: number; pageToken: string }): Promise<{ reports: ComplianceReport[]; nextPageToken: string }> {
  const tenantId = tenantOf(ctx);
  const standard = input.standard === "" ? "" : parseStandard(input.standard);
  const filters = [tenantId, standard];
  const before = input.pageToken === "" ? undefined : decodePageToken(input.pageToken, createdAtIdCursor, filters);
  const limit = input.pageSize === 0 ? DEFAULT_REPORT_PAGE : Math.min(input.pageSize, MAX_REPORT_PAGE);
  const rows = await ctx.inTenant((trx) =>
    listReportRows(trx, tenantId, { standard, limit: limit + 1, before: before === undefined ? undefined : { generatedAt: before.createdAt, id: before.id } }),
  );
  const page = rows.slice(0, limit);
  const last = rows.length > limit ? page.at(-1) : undefined;
  return {
    reports: page.map((r) => r.report),
    nextPageToken: last === undefined ? "" : encodePageToken({ createdAt: last.cursor.generatedAt, id: last.cursor.id }, filters),
  };
}
