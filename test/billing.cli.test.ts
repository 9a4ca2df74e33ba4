import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProvisionTenantResponse } from "../src/gen/tenantmesh/v1/tenant.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { bearer, provisionTenant, quotaClient, rpc, usageBatch, usageEvent } from "./support/metering.js";

/** The CLI verbs of metering and billing, run as the real `tenantmesh` binary against a real control plane */
const run = promisify(execFile);
let t: TestControlPlane;
let tenant: ProvisionTenantResponse;
const lastMonth = (): Date => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 3, 4));
};
const period = (): string => lastMonth().toISOString().slice(0, 7);

const cli = async (...args: string[]): Promise<string> => {
  const { stdout } = await run("node", ["bin/tenantmesh.js", ...args, "--addr", t.address, "--token", t.adminToken], { env: { ...process.env, LOG_LEVEL: "silent" } });
  return stdout;
};

beforeAll(async () => {
  t = await startTestControlPlane();
  tenant = await provisionTenant(t, { planType: "basic" });
  const quotas = quotaClient(t.address);
  await rpc(quotas, quotas.recordUsage, usageBatch([usageEvent(tenant.tenant?.id ?? "", "api_calls", 100_300, lastMonth())]), bearer(t.adminToken));
  quotas.close();
});
afterAll(async () => t?.close());

describe("tenantmesh usage | costs | invoices | pools", () => {
  it("usage <slug> --granularity hour lists the hour and the totals", async () => {
    const out = await cli("usage", tenant.tenant?.slug ?? "", "--granularity", "hour", "--since", new Date(lastMonth().getTime() - 3_600_000).toISOString(), "--until", new Date(lastMonth().getTime() + 3_600_000).toISOString(), "--json");
    const res = JSON.parse(out) as { granularity: string; totals: Record<string, string>; points: unknown[] };
    expect(res).toMatchObject({ granularity: "hour", totals: { api_calls: "100300" } });
    expect(res.points).toHaveLength(1);
  }, 30_000);

  it("costs <tenant> --period YYYY-MM prints the lines and the total", async () => {
    const out = await cli("costs", tenant.tenant?.id ?? "", "--period", period());
    expect(out).toContain("api_calls");
    expect(out).toMatch(/total\s+49\.15 USD/); // 49.00 + 300 × 0.0005
  }, 30_000);

  it("invoices generate then list show the same issued invoice", async () => {
    const generated = await cli("invoices", "generate", tenant.tenant?.slug ?? "", "--period", period());
    expect(generated).toMatch(/total\s+49\.15 USD/);
    const list = JSON.parse(await cli("invoices", "list", tenant.tenant?.slug ?? "", "--json")) as { invoices: Array<{ period: string; totalMinor: string; status: string }> };
    expect(list.invoices).toEqual([expect.objectContaining({ period: period(), totalMinor: "4915", status: "issued" })]);
  }, 30_000);

  it("pools prints every pool", async () => {
    const out = await cli("pools");
    expect(out).toMatch(/^NAME\s+UNIT\s+CAPACITY/m);
    for (const name of ["database", "cache", "compute_slots"]) expect(out).toContain(name);
  }, 30_000);
});
