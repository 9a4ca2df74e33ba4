import { credentials } from "@grpc/grpc-js";
import type { Command } from "commander";
import { TenantMeshError } from "../../errors/index.js";
import { QuotaServiceClient } from "../../gen/tenantmesh/v1/quota.js";
import { isGranularity } from "../../metering/index.js";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** `tenantmesh usage <tenant> [--granularity hour|day|month] [--resource R] [--since T] [--until T]` */
export function registerUsageCommand(program: Command): void {
  clientOptions(program.command("usage <tenant>").description("a tenant's metered usage per hour, day or month (QuotaService.GetUsage)"))
    .option("--granularity <g>", "hour | day | month", "day")
    .option("--resource <type>", "one resource type (api_calls, compute, storage, businesses, users, …)", "")
    .option("--since <time>", "ISO time; default 2 days (hour), 30 days (day) or a year (month) back")
    .option("--until <time>", "ISO time; default now")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { granularity: string; resource: string; since?: string; until?: string }>(cmd);
      if (!isGranularity(o.granularity)) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "--granularity must be hour, day or month");
      const time = (v: string | undefined, flag: string): Date | undefined => {
        if (v === undefined) return undefined;
        const d = new Date(v);
        if (Number.isNaN(d.getTime())) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `${flag} must be an ISO time`);
        return d;
      };
      await withClients(o, async (c) => {
        const quotas = new QuotaServiceClient(o.addr, credentials.createInsecure());
        try {
          const tenantId = await resolveTenantId(c, tenant);
          const res = await unary(quotas, quotas.getUsage, { tenantId, resourceType: o.resource, granularity: o.granularity, start: time(o.since, "--since"), end: time(o.until, "--until") }, c.metadata);
          const rows = res.points.map((p) => ({ period: p.periodStart, resource: p.resourceType, amount: p.amount }));
          if (o.json) return printObject({ tenant_id: res.tenantId, granularity: res.granularity, points: rows, totals: res.totals }, true);
          printRows(rows, ["period", "resource", "amount"], false);
          process.stdout.write(`\ntotals  ${Object.entries(res.totals).map(([k, v]) => `${k}=${v}`).join("  ") || "(no usage)"}\n`);
        } finally {
          quotas.close();
        }
      });
    });
}
