/**
 * Usage against every quota, from QuotaService.CheckQuota (amount 0: "how much is used of what limit", with no
 * side effect) for each resource the quota table knows. Bytes and milliseconds are shown in the units the
 * quotas are set in (GB, hours).
 */
import type { QuotaUsage } from "../../gen/tenantmesh/v1/portal.js";
import { QuotaServiceClient, type QuotaStatus } from "../../gen/tenantmesh/v1/quota.js";
import { quotaResources } from "../../quotas/index.js";
import { callUnary } from "../rpc-client.js";
import { metric, type DashboardSource } from "./source.js";

/** Display unit per wire unit, and the divisor from one to the other */
const displayUnits: Record<string, { unit: string; per: number }> = {
  bytes: { unit: "GB", per: 1_000_000_000 },
  ms: { unit: "hours", per: 3_600_000 },
};

export function toQuotaUsage(s: QuotaStatus): QuotaUsage {
  const display = displayUnits[s.unit] ?? { unit: s.unit, per: 1 };
  const scale = (v: string): number => Math.round((Number(v) / display.per) * 1000) / 1000;
  return {
    resourceType: s.resourceType,
    quota: s.quota,
    used: scale(s.used),
    limit: s.limited ? scale(s.limit) : 0,
    unlimited: !s.limited,
    unit: display.unit,
    period: s.periodStart === undefined ? "" : "month",
  };
}

/** The operator overview's glance: the quotas people ask about first (one CheckQuota each, for every tenant listed) */
export const summaryResources = ["users", "businesses", "api_calls", "compute", "storage"];

export const quotaSource: DashboardSource = {
  service: "QuotaService",
  sections: ["usage"],
  views: ["full", "summary"],
  async fill(ctx, out) {
    const client = ctx.client(QuotaServiceClient);
    const resources = ctx.view === "full" ? quotaResources : quotaResources.filter((r) => summaryResources.includes(r));
    const statuses = await Promise.all(
      resources.map((resourceType) => callUnary(client, client.checkQuota, { tenantId: ctx.tenant.id, resourceType, amount: "0" }, ctx.metadata)),
    );
    for (const s of statuses) {
      const u = toQuotaUsage(s);
      out.usage.push(u);
      if (!u.unlimited && u.limit > 0) metric(out, "usageMetrics", `${u.resourceType}_ratio`, u.used / u.limit);
    }
  },
};
