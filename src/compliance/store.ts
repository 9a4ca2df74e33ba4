/** SQL for compliance_reports; every function takes the tenant transaction it runs in */
import type { Tx } from "../db/index.js";
import type { ComplianceStandard } from "../security/policy.js";
import type { ComplianceFinding, ComplianceReport, ReportStatus } from "./model.js";

interface ReportRow {
  id: string;
  tenant_id: string;
  standard: ComplianceStandard;
  status: ReportStatus;
  score: string | number;
  findings: ComplianceFinding[];
  recommendations: string[];
  generated_by: string;
  generated_at: Date;
  valid_until: Date;
}

const toReport = (r: ReportRow): ComplianceReport => ({
  reportId: r.id,
  tenantId: r.tenant_id,
  standard: r.standard,
  status: r.status,
  score: Number(r.score),
  findings: r.findings,
  recommendations: r.recommendations,
  generatedAt: r.generated_at,
  validUntil: r.valid_until,
  generatedBy: r.generated_by,
});

export async function insertReport(trx: Tx, report: ComplianceReport, remediations: readonly string[]): Promise<void> {
  await trx("compliance_reports").insert({
    id: report.reportId,
    tenant_id: report.tenantId,
    standard: report.standard,
    status: report.status,
    score: report.score,
    findings: JSON.stringify(report.findings),
    recommendations: JSON.stringify(report.recommendations),
    remediations: JSON.stringify(remediations),
    generated_by: report.generatedBy,
    generated_at: report.generatedAt,
    valid_until: report.validUntil,
  });
}

export async function findReport(trx: Tx, tenantId: string, id: string): Promise<ComplianceReport | undefined> {
  const row = (await trx("compliance_reports").where({ tenant_id: tenantId, id }).first()) as ReportRow | undefined;
  return row === undefined ? undefined : toReport(row);
}

/** Newest first; `before` is the last report of the previous page (its generated_at as text, and id) */
export async function listReports(
  trx: Tx,
  tenantId: string,
  query: { standard: string; limit: number; before: { generatedAt: string; id: string } | undefined },
): Promise<Array<{ report: ComplianceReport; cursor: { generatedAt: string; id: string } }>> {
  let q = trx("compliance_reports").select("*", trx.raw("generated_at::text AS cursor_at")).where({ tenant_id: tenantId });
  if (query.standard !== "") q = q.andWhere({ standard: query.standard });
  if (query.before !== undefined) q = q.andWhereRaw("(generated_at, id) < (?::timestamptz, ?::uuid)", [query.before.generatedAt, query.before.id]);
  const rows = (await q.orderBy([{ column: "generated_at", order: "desc" }, { column: "id", order: "desc" }]).limit(query.limit)) as Array<
    ReportRow & { cursor_at: string }
  >;
  return rows.map(({ cursor_at, ...row }) => ({ report: toReport(row), cursor: { generatedAt: cursor_at, id: row.id } }));
}
