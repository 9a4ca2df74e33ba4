import { credentials } from "@grpc/grpc-js";
import type { Command } from "commander";
import { ComplianceServiceClient, type ComplianceReport } from "../../gen/tenantmesh/v1/compliance.js";
import { resolveTenantId, unary, type ClientOptions, type Clients } from "../client.js";
import { printObject, printRows, snakeKeys } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

async function withCompliance<T>(o: ClientOptions, fn: (c: Clients, cs: ComplianceServiceClient) => Promise<T>): Promise<T> {
  return withClients(o, async (c) => {
    const cs = new ComplianceServiceClient(o.addr, credentials.createInsecure());
    try {
      return await fn(c, cs);
    } finally {
      cs.close();
    }
  });
}

function printReport(r: ComplianceReport, json: boolean | undefined): void {
  if (json) return printObject(snakeKeys(r), true);
  printObject({ report_id: r.reportId, tenant_id: r.tenantId, standard: r.standard, status: r.status, score: r.score.toFixed(4), generated_at: r.generatedAt, valid_until: r.validUntil }, false);
  process.stdout.write("\n");
  printRows(
    r.findings.map((f) => ({ rule: f.ruleId, severity: f.severity, status: f.status, message: f.message, remediation: f.remediation })),
    ["rule", "severity", "status", "message", "remediation"],
    false,
  );
  if (r.recommendations.length > 0) process.stdout.write(`\nrecommendations\n${r.recommendations.map((x) => `  - ${x}`).join("\n")}\n`);
}

/** `tenantmesh compliance report <tenant> --standard SOC2`, `compliance reports <tenant>`, `compliance rules --standard S` */
export function registerComplianceCommands(program: Command): void {
  const compliance = program.command("compliance").description("compliance rules and reports (SOC2, PCI-DSS, GDPR, HIPAA)");

  clientOptions(compliance.command("report <tenant>").description("evaluate the standard's rules now and store the report"))
    .requiredOption("--standard <standard>", "SOC2 | PCI-DSS | GDPR | HIPAA")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { standard: string }>(cmd);
      await withCompliance(o, async (c, cs) => {
        const tenantId = await resolveTenantId(c, tenant);
        printReport(await unary(cs, cs.generateReport, { tenantId, standard: o.standard }, c.metadata, 60_000), o.json);
      });
    });

  clientOptions(compliance.command("reports <tenant>").description("stored reports, newest first"))
    .option("--standard <standard>", "only this standard", "")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { standard: string }>(cmd);
      await withCompliance(o, async (c, cs) => {
        const tenantId = await resolveTenantId(c, tenant);
        const res = await unary(cs, cs.listReports, { tenantId, standard: o.standard, pageSize: 50, pageToken: "" }, c.metadata);
        printRows(res.reports.map((r) => ({ report_id: r.reportId, standard: r.standard, status: r.status, score: r.score, generated_at: r.generatedAt, valid_until: r.validUntil })), ["report_id", "standard", "status", "score", "generated_at", "valid_until"], o.json);
      });
    });

  clientOptions(compliance.command("rules").description("the rules of one standard"))
    .requiredOption("--standard <standard>", "SOC2 | PCI-DSS | GDPR | HIPAA")
    .action(async (_o, cmd: Command) => {
      const o = optsOf<ClientOptions & { standard: string }>(cmd);
      await withCompliance(o, async (c, cs) => {
        const res = await unary(cs, cs.listRules, { standard: o.standard }, c.metadata);
        printRows(res.rules.map((r) => ({ ...snakeKeys(r) })), ["id", "name", "category", "severity", "validation_func", "auto_remediation"], o.json);
      });
    });
}
