import { need, type ProvisioningStep } from "../tenants/provisioning/step.js";
import type { SecurityRuntime } from "./runtime.js";

/**
 * Provisioning's encryption-keys step: the tenant's own KEK and its first data key exist before the tenant is
 * activated, so its first request never waits for key creation. Undo destroys the KEK (the database rows go
 * with the tenant row) and records that in the audit log, which keeps both events: it is append-only.
 */
export function encryptionKeysStep(runtime: SecurityRuntime): ProvisioningStep {
  return {
    name: "encryption-keys",
    async run(ctx) {
      const tenantId = need(ctx.tenant, "tenant").id;
      await ctx.env.db.withTenant(tenantId, async (trx) => {
        const version = await runtime.keyring.rotate(trx, tenantId);
        await runtime.audit.append(trx, tenantId, { action: "key.created", actor: ctx.actor, target: `key:v${version}`, detail: { version, trigger: "provisioning" } });
      });
    },
    async undo(ctx) {
      const tenantId = need(ctx.tenant, "tenant").id;
      const { kekIds } = await runtime.keystore.shred(tenantId);
      runtime.keyring.invalidate(tenantId);
      await runtime.audit.record(tenantId, {
        action: "key.destroyed",
        actor: ctx.actor,
        target: `tenant:${tenantId}`,
        essential: true,
        detail: { reason: "provisioning rolled back", key_encryption_keys: kekIds.length },
      });
    },
  };
}
