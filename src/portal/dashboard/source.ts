/**
 * The dashboard is composed from sources, one per owning service. Each source reads its sections through that
 * service's RPCs with the caller's own credential, so a section is exactly as visible as the RPC behind it is.
 * A source's failure is that source's sections' state, never the whole dashboard's.
 */
import type { Client, Metadata } from "@grpc/grpc-js";
import type { TenantDashboard } from "../../gen/tenantmesh/v1/portal.js";
import type { Tenant } from "../../gen/tenantmesh/v1/tenant.js";
import type { ClientConstructor } from "../client-pool.js";

export const dashboardWindows = ["hour", "day", "week"] as const;
export type DashboardWindow = (typeof dashboardWindows)[number];
export const dashboardViews = ["full", "summary"] as const;
export type DashboardView = (typeof dashboardViews)[number];

export const sectionNames = ["tenant", "users", "keys", "usage", "performance", "alerts", "recommendations", "costs", "invoices", "compliance"] as const;
export type SectionName = (typeof sectionNames)[number];

/** ok · unavailable (service not in this deployment) · forbidden (the caller's role) · error (the service failed) */
export type SectionState = "ok" | "unavailable" | "forbidden" | "error";

/** What a source may use: the authorized tenant, the request's options and its sibling services */
export interface SourceContext {
  readonly tenant: Tenant;
  readonly window: DashboardWindow;
  readonly view: DashboardView;
  readonly now: Date;
  /** The caller's credential (and request id), forwarded on every sibling call */
  readonly metadata: Metadata;
  client<C extends Client>(ctor: ClientConstructor<C>): C;
}

export interface DashboardSource {
  /** The service that owns these sections, as named in "not available" messages */
  readonly service: string;
  readonly sections: readonly SectionName[];
  /** The views it takes part in (the operator overview asks for `summary`) */
  readonly views: readonly DashboardView[];
  /** Fills its sections of `out`; throws an RpcError when a call fails */
  fill(ctx: SourceContext, out: TenantDashboard): Promise<void>;
}

/**
 * A source for a service this build does not contain: its sections say so. Replaced by the real source when
 * the service lands, so the portal never shows invented numbers in its place.
 */
export function notInThisBuild(service: string, sections: readonly SectionName[]): DashboardSource {
  return {
    service,
    sections,
    views: ["full", "summary"],
    fill: () => Promise.reject(new NotInDeployment(service)),
  };
}

/** Thrown by a source whose service is not part of this deployment */
export class NotInDeployment extends Error {
  constructor(readonly service: string) {
    super(`${service} is not available in this deployment`);
  }
}

/** Sets a number in one of the analytics maps, creating the analytics on first use */
export function metric(out: TenantDashboard, map: "usageMetrics" | "performanceMetrics" | "costMetrics" | "userMetrics", key: string, value: number): void {
  out.analytics ??= { tenantId: out.tenant?.id ?? "", usageMetrics: {}, performanceMetrics: {}, costMetrics: {}, userMetrics: {}, lastUpdated: undefined };
  out.analytics[map][key] = map === "userMetrics" ? Math.trunc(value) : value;
}
