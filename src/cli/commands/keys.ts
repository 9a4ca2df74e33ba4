import type { Command } from "commander";
import { resolveTenantId, unary, type ClientOptions } from "../client.js";
import { printObject, printRows, snakeKeys } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** `tenantmesh keys create|list|revoke <tenant>` */
export function registerKeyCommands(program: Command): void {
  const keys = program.command("keys").description("manage a tenant's API keys");

  clientOptions(keys.command("create <tenant>").description("create an API key (the secret is printed once)"))
    .option("--name <name>", "", "cli")
    .option("--role <role>", "admin | manager | user | viewer", "user")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { name: string; role: string }>(cmd);
      await withClients(o, async (c) => {
        const tenantId = await resolveTenantId(c, tenant);
        const res = await unary(c.tenants, c.tenants.createApiKey, { tenantId, name: o.name, role: o.role, expiresAt: undefined }, c.metadata);
        if (o.json) return printObject({ api_key: res.apiKey, ...snakeKeys(res.key ?? {}) }, true);
        printObject(snakeKeys(res.key ?? {}), false);
        process.stdout.write(`\napi key (shown once)  ${res.apiKey}\n`);
      });
    });

  clientOptions(keys.command("list <tenant>").description("list API keys (never their secrets)"))
    .option("--include-revoked")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { includeRevoked?: boolean }>(cmd);
      await withClients(o, async (c) => {
        const tenantId = await resolveTenantId(c, tenant);
        const res = await unary(c.tenants, c.tenants.listApiKeys, { tenantId, includeRevoked: Boolean(o.includeRevoked) }, c.metadata);
        printRows(res.keys.map(snakeKeys), ["key_id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"], o.json);
      });
    });

  clientOptions(keys.command("revoke <tenant> <keyId>").description("revoke an API key at once")).action(async (tenant: string, keyId: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withClients(o, async (c) => {
      const tenantId = await resolveTenantId(c, tenant);
      printObject(snakeKeys(await unary(c.tenants, c.tenants.revokeApiKey, { tenantId, keyId }, c.metadata)), o.json);
    });
  });
}
