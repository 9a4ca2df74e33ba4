import { credentials } from "@grpc/grpc-js";
import type { Command } from "commander";
import { TenantMeshError } from "../../errors/index.js";
import { SecurityServiceClient, type AuditEvent } from "../../gen/tenantmesh/v1/security.js";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows, snakeKeys } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** `tenantmesh audit <tenant> [--verify] [--action A] [--limit N]` */
export function registerAuditCommand(program: Command): void {
  clientOptions(program.command("audit <tenant>").description("a tenant's audit log, oldest first; --verify checks its hash chain"))
    .option("--verify", "walk the hash chain; exit 1 naming the first broken link")
    .option("--action <action>", "only events of this action (e.g. auth.failure)", "")
    .option("--limit <n>", "at most this many events", "1000")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { verify?: boolean; action: string; limit: string }>(cmd);
      await withClients(o, async (c) => {
        const sec = new SecurityServiceClient(o.addr, credentials.createInsecure());
        try {
          const tenantId = await resolveTenantId(c, tenant);
          if (o.verify) {
            const v = await unary(sec, sec.verifyAuditLog, { tenantId }, c.metadata, 120_000);
            printObject(snakeKeys(v), o.json);
            if (!v.ok) throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `audit chain broken at event ${v.firstBrokenSeq}: ${v.reason}`);
            return;
          }
          const limit = Number(o.limit);
          const events: AuditEvent[] = [];
          let pageToken = "";
          do {
            const page = await unary(sec, sec.listAuditEvents, { tenantId, pageSize: Math.min(1_000, limit - events.length), pageToken, action: o.action }, c.metadata);
            events.push(...page.events);
            pageToken = page.nextPageToken;
          } while (pageToken !== "" && events.length < limit);
          const rows = events.map((e) => ({ ...snakeKeys(e), detail: e.detailJson }));
          printRows(rows, ["seq", "occurred_at", "actor", "action", "outcome", "target", "request_id", "detail"], o.json);
        } finally {
          sec.close();
        }
      });
    });
}
