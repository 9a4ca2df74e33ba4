/**
 * GetTenantDashboard's composition: the tenant first (every section needs its limits), then every source in
 * parallel, each into its own draft so a source that fails half-way leaves nothing half-written. Drafts merge in
 * source order; for usage, a later source's figure for a resource replaces an earlier one (QuotaService's
 * CheckQuota over the stand-in user count).
 */
import type { Client, Metadata } from "@grpc/grpc-js";
import type { QuotaUsage, SectionStatus, TenantDashboard } from "../../gen/tenantmesh/v1/portal.js";
import { TenantServiceClient, type Tenant } from "../../gen/tenantmesh/v1/tenant.js";
import type { ClientConstructor } from "../client-pool.js";
import { callUnary, RpcError } from "../rpc-client.js";
import { NotInDeployment, type DashboardSource, type DashboardView, type DashboardWindow, type SectionState, type SourceContext } from "./source.js";

export interface ComposeInput {
  tenantId: string;
  window: DashboardWindow;
  view: DashboardView;
  now: Date;
  metadata: Metadata;
  client<C extends Client>(ctor: ClientConstructor<C>): C;
  sources: readonly DashboardSource[];
}

const emptyDashboard = (tenant: Tenant | undefined, now: Date): TenantDashboard => ({
  tenant,
  analytics: { tenantId: tenant?.id ?? "", usageMetrics: {}, performanceMetrics: {}, costMetrics: {}, userMetrics: {}, lastUpdated: now },
  usage: [],
  performance: undefined,
  alerts: [],
  recommendations: [],
  costs: undefined,
  invoices: [],
  compliance: [],
  sections: [],
  generatedAt: now,
});

/** A source's failure as the state of its sections */
function stateOf(err: unknown, service: string): { state: SectionState; message: string } {
  if (err instanceof NotInDeployment || (err instanceof RpcError && err.unimplemented)) {
    return { state: "unavailable", message: `${service} is not available in this deployment` };
  }
  if (err instanceof RpcError && err.code === "TM_ERR_PERMISSION_DENIED") return { state: "forbidden", message: "your role may not read this" };
  if (err instanceof RpcError) return { state: "error", message: `${service}: ${err.message}` };
  return { state: "error", message: `${service} failed` };
}

/** Stable order of the usage bars: people first, then flow quotas */
const usageOrder = ["users", "concurrent_users", "businesses", "api_calls", "compute", "storage", "database", "cache", "compute_slots"];
const usageRank = (u: QuotaUsage): number => {
  const i = usageOrder.indexOf(u.resourceType);
  return i === -1 ? usageOrder.length : i;
};

/** Composes the dashboard; a failure to read the tenant itself fails the call (the caller was authorized for it) */
export async function composeDashboard(input: ComposeInput): Promise<TenantDashboard> {
  const tenants = input.client(TenantServiceClient);
  const tenant = await callUnary(tenants, tenants.getTenant, { id: input.tenantId }, input.metadata);
  const ctx: SourceContext = { tenant, window: input.window, view: input.view, now: input.now, metadata: input.metadata, client: input.client };
  const active = input.sources.filter((s) => s.views.includes(input.view));
  const outcomes = await Promise.all(
    active.map(async (source) => {
      const draft = emptyDashboard(tenant, input.now);
      try {
        await source.fill(ctx, draft);
        return { source, draft, state: "ok" as SectionState, message: "" };
      } catch (err) {
        return { source, draft: undefined, ...stateOf(err, source.service) };
      }
    }),
  );

  const out = emptyDashboard(tenant, input.now);
  const usage = new Map<string, QuotaUsage>();
  const sections: SectionStatus[] = [{ section: "tenant", state: "ok", message: "" }];
  for (const { source, draft, state, message } of outcomes) {
    for (const section of source.sections) sections.push({ section, state, message });
    if (draft === undefined) continue;
    for (const u of draft.usage) usage.set(u.resourceType, u);
    out.alerts.push(...draft.alerts);
    out.recommendations.push(...draft.recommendations);
    out.invoices.push(...draft.invoices);
    out.compliance.push(...draft.compliance);
    out.performance ??= draft.performance;
    out.costs ??= draft.costs;
    if (draft.analytics && out.analytics) {
      for (const key of ["usageMetrics", "performanceMetrics", "costMetrics", "userMetrics"] as const) Object.assign(out.analytics[key], draft.analytics[key]);
    }
  }
  out.usage = [...usage.values()].sort((a, b) => usageRank(a) - usageRank(b));
  for (const u of out.usage) {
    out.analytics!.usageMetrics[`${u.resourceType}_used`] = u.used;
    if (!u.unlimited) out.analytics!.usageMetrics[`${u.resourceType}_limit`] = u.limit;
  }
  // A section two sources share (none today) is ok if any of them filled it.
  out.sections = dedupeSections(sections);
  return out;
}

function dedupeSections(sections: SectionStatus[]): SectionStatus[] {
  const byName = new Map<string, SectionStatus>();
  for (const s of sections) {
    const seen = byName.get(s.section);
    if (seen === undefined || (seen.state !== "ok" && s.state === "ok")) byName.set(s.section, s);
  }
  return [...byName.values()];
}
