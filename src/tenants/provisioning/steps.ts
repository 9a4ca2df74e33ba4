import { generateApiKey, hashApiKeySecret } from "../../auth/api-key.js";
import { planFor } from "../../plans/index.js";
import { insertUser } from "../../users/store.js";
import { deleteApiKey, insertApiKey } from "../api-key-store.js";
import { planColumns } from "../model.js";
import { deleteTenant, insertTenant, insertTenantEvent, updateTenant } from "../store.js";
import { need, type ProvisioningStep } from "./step.js";
import { validateStep } from "./validate.js";

/** Step 2: the tenant row, in status provisioning (the feed leaves such tenants out, so proxies never see it) */
export const createTenantStep: ProvisioningStep = {
  name: "create-tenant",
  async run(ctx) {
    const plan = planFor(need(ctx.planType, "planType"));
    ctx.tenant = await ctx.env.db.asPlatform((trx) =>
      insertTenant(trx, {
        ...planColumns(plan),
        name: ctx.input.name.trim(),
        slug: ctx.input.slug,
        status: "provisioning",
        scale_current: plan.scale.initial,
        billing_info: ctx.input.billingInfo ?? null,
        billing_cycle: need(ctx.billingCycle, "billingCycle"),
        idempotency_key: ctx.input.idempotencyKey ?? null,
      }),
    );
  },
  async undo(ctx) {
    // Cascades to every row a later step (or a later feature's step) hung off the tenant.
    const id = need(ctx.tenant, "tenant").id;
    await ctx.env.db.asPlatform((trx) => deleteTenant(trx, id));
  },
};

/**
 * Step 3: the tenant's first admin user. Its password hash (scrypt, tens of ms on the libuv pool) was started
 * by `validate`; this step mostly waits for it.
 */
export const createAdminUserStep: ProvisioningStep = {
  name: "create-admin-user",
  async run(ctx) {
    const tenantId = need(ctx.tenant, "tenant").id;
    const passwordHash = await need(ctx.adminPasswordHash, "adminPasswordHash");
    ctx.adminUser = await ctx.env.db.withTenant(tenantId, (trx) =>
      insertUser(trx, { tenantId, email: ctx.input.adminEmail.trim(), passwordHash, role: "admin" }),
    );
  },
  async undo(ctx) {
    const tenantId = need(ctx.tenant, "tenant").id;
    const userId = need(ctx.adminUser, "adminUser").id;
    // A hard delete, unlike DeleteUser's soft one: this user never existed as far as anyone outside knows.
    await ctx.env.db.withTenant(tenantId, (trx) => trx("users").where({ id: userId }).delete());
  },
};

/** Step 4: the first API key, role admin; its token is in the response once */
export const createFirstApiKeyStep: ProvisioningStep = {
  name: "create-api-key",
  async run(ctx) {
    const tenantId = need(ctx.tenant, "tenant").id;
    const key = generateApiKey();
    const row = await ctx.env.db.withTenant(tenantId, (trx) =>
      insertApiKey(trx, {
        key_id: key.keyId,
        tenant_id: tenantId,
        name: "provisioning",
        secret_hash: hashApiKeySecret(ctx.env.apiKeyPepper, key.keyId, key.secret),
        role: "admin",
        created_by: ctx.actor,
        expires_at: null,
      }),
    );
    ctx.apiKey = { token: key.token, row };
  },
  async undo(ctx) {
    const tenantId = need(ctx.tenant, "tenant").id;
    const keyId = need(ctx.apiKey, "apiKey").row.key_id;
    await ctx.env.db.withTenant(tenantId, (trx) => deleteApiKey(trx, keyId));
  },
};

/**
 * The final step: status active and the `provisioned` event, in one transaction. It has no undo because
 * nothing runs after it: composeProvisioningSteps keeps it last.
 */
export const activateStep: ProvisioningStep = {
  name: "activate",
  async run(ctx) {
    const tenant = need(ctx.tenant, "tenant");
    ctx.tenant = await ctx.env.db.withTenant(tenant.id, async (trx) => {
      const row = need(await updateTenant(trx, tenant.id, { status: "active" }), "tenant row");
      await insertTenantEvent(trx, {
        tenantId: tenant.id,
        type: "provisioned",
        actor: ctx.actor,
        detail: {
          from: "provisioning",
          to: "active",
          plan_type: row.plan_type,
          admin_user_id: ctx.adminUser?.id ?? null,
          api_key_id: ctx.apiKey?.row.key_id ?? null,
        },
      });
      return row;
    });
  },
};

/** The built-in steps, in order */
export const defaultProvisioningSteps: readonly ProvisioningStep[] = [
  validateStep,
  createTenantStep,
  createAdminUserStep,
  createFirstApiKeyStep,
  activateStep,
];

/**
 * The step list with later features' steps added: they run after the built-in steps that create things and
 * before `activate`, so a tenant only becomes visible (active, in the feed) once every step has succeeded.
 */
export function composeProvisioningSteps(extra: readonly ProvisioningStep[], base: readonly ProvisioningStep[] = defaultProvisioningSteps): ProvisioningStep[] {
  const names = new Set<string>();
  for (const step of [...base, ...extra]) {
    if (names.has(step.name)) throw new Error(`provisioning step '${step.name}' is listed twice`);
    names.add(step.name);
  }
  const last = base.at(-1);
  if (last === undefined) return [...extra];
  return [...base.slice(0, -1), ...extra, last];
}
