import type { Command } from "commander";
import { request } from "undici";
import { readAdminToken, loadConfig } from "../../config/index.js";
import { TenantMeshError } from "../../errors/index.js";
import { printRows } from "../output.js";
import { optsOf } from "./common.js";

interface TracesOptions {
  admin: string;
  token?: string;
  limit: string;
  json?: boolean;
}

/** What the proxy's `GET /admin/traces` answers (proxy/telemetry) */
export interface AdminTraces {
  tenant: string;
  slug?: string;
  source: string;
  traces: Array<Record<string, unknown> & { traceId: string; endedAt: string; durationMs: number; reason: string }>;
}

/** Reads a tenant's recent slow and failed requests from a proxy's admin API */
export async function fetchTraces(admin: string, token: string, tenant: string, limit: number): Promise<AdminTraces> {
  const url = new URL("/admin/traces", admin);
  url.searchParams.set("tenant", tenant);
  url.searchParams.set("limit", String(limit));
  const res = await request(url, { headers: { authorization: `Bearer ${token}` }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new TenantMeshError("TM_ERR_UNAVAILABLE", `proxy admin ${url.origin} answered ${res.statusCode}: ${body.slice(0, 200)}`);
  return JSON.parse(body) as AdminTraces;
}

/**
 * `tenantmesh traces <tenant>`: the tenant's recent slow, failed and throttled requests with their trace ids,
 * from the bounded ring in a proxy's admin API (each proxy keeps its own; with a collector configured, look
 * the trace ids up there for the full trace).
 */
export function registerTracesCommand(program: Command): void {
  program
    .command("traces <tenant>")
    .description("a tenant's recent slow and failed requests with their trace ids, from a proxy's admin API (operator)")
    .option("--admin <url>", "the proxy's admin API", process.env.TENANTMESH_PROXY_ADMIN ?? "http://127.0.0.1:9901")
    .option("--token <token>", "operator token (default: TENANTMESH_ADMIN_TOKEN or the data dir's)")
    .option("--limit <n>", "requests to show", "20")
    .option("--json", "print JSON instead of a table")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<TracesOptions>(cmd);
      const token = o.token ?? readAdminToken(loadConfig().dataDir);
      if (!token) throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "no operator token: pass --token or set TENANTMESH_ADMIN_TOKEN");
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "--limit must be a positive whole number");
      const res = await fetchTraces(o.admin, token, tenant, limit);
      if (o.json) return void process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
      process.stdout.write(`${res.slug ?? res.tenant} — ${res.traces.length} recent slow/failed request(s) (${res.source})\n\n`);
      printRows(res.traces, ["endedAt", "reason", "durationMs", "status", "errorCode", "method", "path", "backend", "traceId"], false);
    });
}
