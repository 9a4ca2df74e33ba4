import type { Command } from "commander";
import type { Tenant } from "../../gen/tenantmesh/v1/tenant.js";
import { TenantMeshError } from "../../errors/index.js";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows, snakeKeys } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

const tenantColumns = ["id", "slug", "name", "plan_type", "status", "priority_level", "api_rate_limit", "created_at"];

const show = (t: Tenant, json?: boolean): void => printObject(snakeKeys(t), json);

/** `tenantmesh tenants provision|list|get|update|suspend|reactivate|cancel` */
export function registerTenantCommands(program: Command): void {
  const tenants = program.command("tenants").description("manage tenants (operator)");

  clientOptions(tenants.command("provision").description("provision a tenant with its admin user and first API key"))
    .requiredOption("--name <name>")
    .requiredOption("--slug <slug>", "URL-friendly id: lower-case letters, digits, hyphens")
    .requiredOption("--admin-email <email>")
    .option("--plan <plan>", "free | basic | professional | enterprise", "")
    .option("--admin-password <password>", "default: generated and printed once")
    .option("--billing-cycle <cycle>", "monthly | annual", "")
    .option("--idempotency-key <key>", "retrying with the same key returns the same tenant", "")
    .action(async (_o, cmd: Command) => {
      const o = optsOf<ClientOptions & { name: string; slug: string; adminEmail: string; plan: string; adminPassword?: string; billingCycle: string; idempotencyKey: string }>(cmd);
      await withClients(o, async (c) => {
        const res = await unary(c.tenants, c.tenants.provisionTenant, {
          name: o.name,
          slug: o.slug,
          planType: o.plan,
          adminEmail: o.adminEmail,
          adminPassword: o.adminPassword ?? "",
          billingInfo: undefined,
          billingCycle: o.billingCycle,
          idempotencyKey: o.idempotencyKey,
        }, c.metadata, 60_000);
        if (o.json) return printObject(snakeKeys(res), true);
        show(res.tenant!);
        process.stdout.write(`\nadmin user      ${res.adminUser?.email ?? ""}${res.adminPassword ? `  password (shown once): ${res.adminPassword}` : ""}\n`);
        if (res.apiKey) process.stdout.write(`api key (shown once)  ${res.apiKey}\n`);
        if (res.replayed) process.stdout.write("(an earlier request with this idempotency key made this tenant)\n");
      });
    });

  clientOptions(tenants.command("list").description("list tenants"))
    .option("--status <status>", "", "")
    .option("--plan <plan>", "", "")
    .option("--page-size <n>", "", "100")
    .option("--all", "follow page tokens to the end")
    .action(async (_o, cmd: Command) => {
      const o = optsOf<ClientOptions & { status: string; plan: string; pageSize: string; all?: boolean }>(cmd);
      await withClients(o, async (c) => {
        const rows: Tenant[] = [];
        let pageToken = "";
        do {
          const page = await unary(c.tenants, c.tenants.listTenants, { pageSize: Number(o.pageSize), pageToken, status: o.status, planType: o.plan }, c.metadata);
          rows.push(...page.tenants);
          pageToken = o.all ? page.nextPageToken : "";
        } while (pageToken);
        printRows(rows.map(snakeKeys), tenantColumns, o.json);
      });
    });

  clientOptions(tenants.command("get <tenant>").description("show one tenant (id or slug)")).action(async (tenant: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withClients(o, async (c) => show(await unary(c.tenants, c.tenants.getTenant, { id: await resolveTenantId(c, tenant) }, c.metadata), o.json));
  });

  clientOptions(tenants.command("update <tenant>").description("change a tenant's fields (only those given)"))
    .option("--name <name>")
    .option("--plan <plan>", "a plan change re-derives quotas, tier, priority, features")
    .option("--network-restrictions <cidrs>", "comma-separated CIDR list; empty string clears")
    .option("--billing-cycle <cycle>")
    .option("--data-retention-days <days>")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { name?: string; plan?: string; networkRestrictions?: string; billingCycle?: string; dataRetentionDays?: string }>(cmd);
      const patch: Partial<Tenant> = {};
      const mask: string[] = [];
      if (o.name !== undefined) (patch.name = o.name), mask.push("name");
      if (o.plan !== undefined) (patch.planType = o.plan), mask.push("plan_type");
      if (o.networkRestrictions !== undefined) {
        patch.networkRestrictions = o.networkRestrictions.split(",").map((s) => s.trim()).filter(Boolean);
        mask.push("network_restrictions");
      }
      if (o.billingCycle !== undefined) (patch.billingCycle = o.billingCycle), mask.push("billing_cycle");
      if (o.dataRetentionDays !== undefined) (patch.dataRetentionDays = Number(o.dataRetentionDays)), mask.push("data_retention_days");
      if (mask.length === 0) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "nothing to update: give at least one field option");
      await withClients(o, async (c) => {
        const id = await resolveTenantId(c, tenant);
        const updated = await unary(c.tenants, c.tenants.updateTenant, { tenant: { ...(patch as Tenant), id }, updateMask: mask }, c.metadata);
        show(updated, o.json);
      });
    });

  for (const verb of ["suspend", "reactivate", "cancel"] as const) {
    clientOptions(tenants.command(`${verb} <tenant>`).description(`${verb} a tenant`))
      .option("--reason <reason>", "", "")
      .action(async (tenant: string, _o, cmd: Command) => {
        const o = optsOf<ClientOptions & { reason: string }>(cmd);
        await withClients(o, async (c) => {
          const id = await resolveTenantId(c, tenant);
          const method = verb === "suspend" ? c.tenants.suspendTenant : verb === "reactivate" ? c.tenants.reactivateTenant : c.tenants.cancelTenant;
          show(await unary(c.tenants, method, { id, reason: o.reason }, c.metadata), o.json);
        });
      });
  }
}
