import type { Command } from "commander";
import type { User } from "../../gen/tenantmesh/v1/user.js";
import { TenantMeshError } from "../../errors/index.js";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows, snakeKeys } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

const userColumns = ["id", "email", "role", "mfa_enabled", "last_login", "login_count", "deleted_at"];

/** Secrets come from an option or an environment variable, never from a prompt (scripts and CI have no TTY) */
function secretOption(value: string | undefined, envName: string, what: string): string {
  const v = value ?? process.env[envName];
  if (!v) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `${what} required: pass --${what} or set ${envName}`);
  return v;
}

/** `tenantmesh users create|list|get|update|delete|login|logout|revoke-sessions` */
export function registerUserCommands(program: Command): void {
  const users = program.command("users").description("manage a tenant's users");

  clientOptions(users.command("create <tenant>").description("create a user"))
    .requiredOption("--email <email>")
    .option("--password <password>", "or TENANTMESH_PASSWORD")
    .option("--role <role>", "admin | manager | user | viewer", "user")
    .option("--permissions <names>", "comma-separated extra permissions", "")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { email: string; password?: string; role: string; permissions: string }>(cmd);
      const password = secretOption(o.password, "TENANTMESH_PASSWORD", "password");
      await withClients(o, async (c) => {
        const tenantId = await resolveTenantId(c, tenant);
        const user = await unary(c.users, c.users.createUser, {
          tenantId,
          email: o.email,
          password,
          role: o.role,
          permissions: o.permissions.split(",").map((s) => s.trim()).filter(Boolean),
          tenantPermissions: undefined,
          timezone: "",
          language: "",
          preferences: undefined,
        }, c.metadata);
        printObject(snakeKeys(user), o.json);
      });
    });

  clientOptions(users.command("list <tenant>").description("list users"))
    .option("--role <role>", "", "")
    .option("--include-deleted")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { role: string; includeDeleted?: boolean }>(cmd);
      await withClients(o, async (c) => {
        const tenantId = await resolveTenantId(c, tenant);
        const rows: User[] = [];
        let pageToken = "";
        do {
          const page = await unary(c.users, c.users.listUsers, { tenantId, pageSize: 200, pageToken, role: o.role, includeDeleted: Boolean(o.includeDeleted) }, c.metadata);
          rows.push(...page.users);
          pageToken = page.nextPageToken;
        } while (pageToken);
        printRows(rows.map(snakeKeys), userColumns, o.json);
      });
    });

  clientOptions(users.command("get <tenant> <userId>").description("show a user")).action(async (tenant: string, id: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withClients(o, async (c) => printObject(snakeKeys(await unary(c.users, c.users.getUser, { tenantId: await resolveTenantId(c, tenant), id }, c.metadata)), o.json));
  });

  clientOptions(users.command("update <tenant> <userId>").description("change a user's role, permissions, timezone or language"))
    .option("--role <role>")
    .option("--permissions <names>", "comma-separated; replaces the list")
    .option("--timezone <tz>")
    .option("--language <lang>")
    .action(async (tenant: string, id: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { role?: string; permissions?: string; timezone?: string; language?: string }>(cmd);
      const user: Partial<User> = {};
      const mask: string[] = [];
      if (o.role !== undefined) (user.role = o.role), mask.push("role");
      if (o.permissions !== undefined) (user.permissions = o.permissions.split(",").map((s) => s.trim()).filter(Boolean)), mask.push("permissions");
      if (o.timezone !== undefined) (user.timezone = o.timezone), mask.push("timezone");
      if (o.language !== undefined) (user.language = o.language), mask.push("language");
      if (mask.length === 0) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "nothing to update: give at least one field option");
      await withClients(o, async (c) => {
        const tenantId = await resolveTenantId(c, tenant);
        printObject(snakeKeys(await unary(c.users, c.users.updateUser, { user: { ...(user as User), tenantId, id }, updateMask: mask }, c.metadata)), o.json);
      });
    });

  clientOptions(users.command("delete <tenant> <userId>").description("delete a user (soft) and end its sessions")).action(async (tenant: string, id: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withClients(o, async (c) => {
      await unary(c.users, c.users.deleteUser, { tenantId: await resolveTenantId(c, tenant), id }, c.metadata);
      process.stdout.write("deleted\n");
    });
  });

  clientOptions(users.command("login <tenantSlug>").description("authenticate and print a session token"))
    .requiredOption("--email <email>")
    .option("--password <password>", "or TENANTMESH_PASSWORD")
    .option("--totp <code>", "the current TOTP code, when MFA is on", "")
    .action(async (tenantSlug: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { email: string; password?: string; totp: string }>(cmd);
      const password = secretOption(o.password, "TENANTMESH_PASSWORD", "password");
      await withClients(o, async (c) => {
        const res = await unary(c.users, c.users.authenticate, { tenantSlug, email: o.email, password, totpCode: o.totp }, c.metadata);
        if (o.json) return printObject(snakeKeys(res), true);
        printObject({ tenant_id: res.tenantId, user: res.user?.email, role: res.role, expires_at: res.expiresAt }, false);
        process.stdout.write(`\nsession token  ${res.sessionToken}\n`);
      });
    });

  clientOptions(users.command("revoke-sessions <tenant>").description("end a user's sessions, or every session of the tenant"))
    .option("--user <userId>", "", "")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { user: string }>(cmd);
      await withClients(o, async (c) => {
        const res = await unary(c.users, c.users.revokeSessions, { tenantId: await resolveTenantId(c, tenant), userId: o.user }, c.metadata);
        printObject({ revoked_count: res.revokedCount }, o.json);
      });
    });
}
