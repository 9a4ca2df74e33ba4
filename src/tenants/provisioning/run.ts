import { TenantMeshError } from "../../errors/index.js";
import type { UserRow } from "../../users/store.js";
import { firstApiKey, type ApiKeyRow } from "../api-key-store.js";
import type { TenantRow } from "../model.js";
import { findTenantByIdempotencyKey, IdempotencyKeyTaken } from "../store.js";
import { need, type ProvisionInput, type ProvisioningContext, type ProvisioningEnv, type ProvisioningStep } from "./step.js";

/** What a provisioning made, or found when the request was a retry */
export interface ProvisionOutcome {
  tenant: TenantRow;
  adminUser: UserRow | undefined;
  /** Only when generated now */
  adminPassword: string | undefined;
  /** The full token, only when made now */
  apiKeyToken: string | undefined;
  apiKey: ApiKeyRow | undefined;
  replayed: boolean;
}

/**
 * Provisions one tenant: a retried idempotency key returns the earlier tenant; otherwise the steps run in order
 * and the first failure (or the timeout) undoes every completed step in reverse order before the error is
 * returned, so a failed provisioning leaves no row behind.
 */
export async function provisionTenant(
  env: ProvisioningEnv,
  steps: readonly ProvisioningStep[],
  input: ProvisionInput,
  actor: string,
): Promise<ProvisionOutcome> {
  if (input.idempotencyKey !== undefined) {
    const earlier = await replay(env, input);
    if (earlier) return earlier;
  }
  const ctx: ProvisioningContext = { env, input, actor, extras: new Map() };
  try {
    await runSteps(ctx, steps);
  } catch (err) {
    // Two retries of one request raced: the loser's insert hit a unique index (the key's, or the slug's when
    // PostgreSQL checks that one first). When the key names a tenant now, answer as a retry of it.
    const raced = err instanceof IdempotencyKeyTaken || (err instanceof TenantMeshError && err.code === "TM_ERR_ALREADY_EXISTS");
    if (raced && input.idempotencyKey !== undefined) {
      const earlier = await replay(env, input);
      if (earlier) return earlier;
    }
    if (err instanceof IdempotencyKeyTaken) {
      throw new TenantMeshError("TM_ERR_UNAVAILABLE", "a provisioning with this idempotency_key was rolled back meanwhile; retry", {
        retryAfterSeconds: 1,
      });
    }
    throw err;
  }
  return {
    tenant: need(ctx.tenant, "tenant"),
    adminUser: ctx.adminUser,
    adminPassword: ctx.generatedPassword,
    apiKeyToken: ctx.apiKey?.token,
    apiKey: ctx.apiKey?.row,
    replayed: false,
  };
}

async function runSteps(ctx: ProvisioningContext, steps: readonly ProvisioningStep[]): Promise<void> {
  const { timeoutMs } = ctx.env.config;
  const completed: ProvisioningStep[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    for (const [index, step] of steps.entries()) {
      const running = step.run(ctx);
      const first = await Promise.race([running.then(() => "done" as const), deadline]);
      if (first === "done") {
        completed.push(step);
        continue;
      }
      // The step is still running: wait for it, so its effects are known (and undone) rather than racing the undo.
      const finished = await running.then(
        () => true,
        () => false,
      );
      // A final step that got there late still finished the tenant: undoing a tenant that became active
      // (and may already be in the proxies' feed) would do more harm than a slow success.
      if (finished && index === steps.length - 1) return;
      if (finished) completed.push(step);
      throw new TenantMeshError(
        "TM_ERR_DEADLINE_EXCEEDED",
        `provisioning did not finish within ${timeoutMs} ms (at step '${step.name}'); every completed step was undone`,
      );
    }
  } catch (err) {
    await undoAll(ctx, completed);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Undoes in reverse order; an undo that fails is logged and the others still run */
async function undoAll(ctx: ProvisioningContext, completed: readonly ProvisioningStep[]): Promise<void> {
  for (const step of [...completed].reverse()) {
    if (!step.undo) continue;
    try {
      await step.undo(ctx);
    } catch (err) {
      ctx.env.log.error({ err, step: step.name, tenant_id: ctx.tenant?.id }, "provisioning undo failed; rows may be left behind");
    }
  }
}

/** The tenant an earlier request with this idempotency key made, without its secrets; undefined when none */
async function replay(env: ProvisioningEnv, input: ProvisionInput): Promise<ProvisionOutcome | undefined> {
  const key = need(input.idempotencyKey, "idempotencyKey");
  const found = await env.db.asPlatform(async (trx) => {
    const tenant = await findTenantByIdempotencyKey(trx, key);
    if (tenant === undefined) return undefined;
    // The first admin is provisioning's user: read here directly, as the users store has no such query.
    const adminUser = await trx<UserRow>("users")
      .where({ tenant_id: tenant.id, role: "admin" })
      .orderBy([{ column: "created_at" }, { column: "id" }])
      .first();
    return { tenant, adminUser, apiKey: await firstApiKey(trx, tenant.id) };
  });
  if (found === undefined) return undefined;
  if (found.tenant.slug !== input.slug) {
    throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "idempotency_key was already used for a request with another slug", {
      violations: [{ field: "idempotency_key", description: "already used for another tenant" }],
    });
  }
  if (found.tenant.status === "provisioning") {
    throw new TenantMeshError("TM_ERR_UNAVAILABLE", "a provisioning with this idempotency_key is still running; retry", { retryAfterSeconds: 1 });
  }
  return { ...found, adminPassword: undefined, apiKeyToken: undefined, replayed: true };
}
