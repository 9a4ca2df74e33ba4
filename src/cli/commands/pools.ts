import { credentials } from "@grpc/grpc-js";
import type { Command } from "commander";
import { QuotaServiceClient } from "../../gen/tenantmesh/v1/quota.js";
import { unary, type ClientOptions } from "../client.js";
import { printObject, printRows } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** `tenantmesh pools`: every shared resource pool's capacity, allocation and holders (QuotaService.ListPools) */
export function registerPoolsCommand(program: Command): void {
  clientOptions(program.command("pools").description("shared resource pools: capacity, allocated, available, utilization, holders")).action(
    async (_o, cmd: Command) => {
      const o = optsOf<ClientOptions>(cmd);
      await withClients(o, async (c) => {
        const quotas = new QuotaServiceClient(o.addr, credentials.createInsecure());
        try {
          const res = await unary(quotas, quotas.listPools, {}, c.metadata);
          const rows = res.pools.map((p) => ({
            name: p.name,
            unit: p.unit,
            capacity: p.totalCapacity,
            allocated: p.allocated,
            available: p.available,
            utilization: `${(p.utilization * 100).toFixed(1)}%`,
            tenants: p.tenants.length,
          }));
          if (o.json) return printObject({ pools: res.pools }, true);
          printRows(rows, ["name", "unit", "capacity", "allocated", "available", "utilization", "tenants"], false);
        } finally {
          quotas.close();
        }
      });
    },
  );
}
