/**
 * Compliance status per standard: the latest stored report of each standard (ComplianceService.ListReports,
 * newest first), with its status and score. Reports are generated on request (CLI or GenerateReport); the
 * dashboard shows what was last generated and when, never a score it computed itself.
 */
import { ComplianceServiceClient, type ComplianceReport } from "../../gen/tenantmesh/v1/compliance.js";
import { callUnary } from "../rpc-client.js";
import { type DashboardSource } from "./source.js";

export const complianceSource: DashboardSource = {
  service: "ComplianceService",
  sections: ["compliance"],
  views: ["full"],
  async fill(ctx, out) {
    const client = ctx.client(ComplianceServiceClient);
    const { reports } = await callUnary(client, client.listReports, { tenantId: ctx.tenant.id, standard: "", pageSize: 200, pageToken: "" }, ctx.metadata);
    const latest = new Map<string, ComplianceReport>();
    for (const r of reports) if (!latest.has(r.standard)) latest.set(r.standard, r);
    out.compliance = [...latest.values()]
      .sort((a, b) => a.standard.localeCompare(b.standard))
      .map((r) => ({ standard: r.standard, status: r.status, score: r.score, generatedAt: r.generatedAt, validUntil: r.validUntil }));
  },
};
