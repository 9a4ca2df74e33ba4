/**
 * The isolation report (which tenants are impacted by others right now) from MonitorService.GetIsolationReport,
 * with tenant names from ListTenants. When MonitorService is not part of this deployment the page says so.
 */
import { MonitorServiceClient } from "../../gen/tenantmesh/v1/monitor.js";
import { TenantServiceClient } from "../../gen/tenantmesh/v1/tenant.js";
import { callUnary, RpcError } from "../rpc-client.js";
import type { RouteContext } from "./router.js";

/** The report's windows and how far back flagged runs are looked for (the monitor's defaults) */
const WINDOW_SECONDS = 60;
const LOOKBACK_SECONDS = 3_600;

async function tenantLabels(ctx: RouteContext): Promise<Map<string, string>> {
  const client = ctx.clients.get(TenantServiceClient);
  const labels = new Map<string, string>();
  let pageToken = "";
  do {
    const page = await callUnary(client, client.listTenants, { pageSize: 500, pageToken, status: "", planType: "" }, ctx.metadata());
    for (const t of page.tenants) labels.set(t.id, `${t.name} (${t.slug})`);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && labels.size < 10_000);
  return labels;
}

export async function isolationReport(ctx: RouteContext): Promise<unknown> {
  const client = ctx.clients.get(MonitorServiceClient);
  let report;
  try {
    report = await callUnary(client, client.getIsolationReport, { windowSeconds: WINDOW_SECONDS, lookbackSeconds: LOOKBACK_SECONDS }, ctx.metadata());
  } catch (err) {
    if (err instanceof RpcError && err.unimplemented) return { available: false, message: "MonitorService is not available in this deployment", tenants: [] };
    throw err;
  }
  const labels = await tenantLabels(ctx);
  return {
    available: true,
    generatedAt: report.generatedAt ?? null,
    windowSeconds: report.windowSeconds,
    tenants: report.tenants
      .map((t) => ({
        tenantId: t.tenantId,
        label: labels.get(t.tenantId) ?? t.tenantId,
        baselineP99Ms: t.baselineP99Ms,
        currentP99Ms: t.currentP99Ms,
        flagged: t.flagged,
        topConsumers: t.topConsumers.map((c) => ({ tenantId: c.tenantId, label: labels.get(c.tenantId) ?? c.tenantId, capacityShare: c.capacityShare })),
      }))
      .sort((a, b) => Number(b.flagged) - Number(a.flagged) || a.label.localeCompare(b.label)),
  };
}
