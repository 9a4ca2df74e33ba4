/**
 * SecurityService's operations on policies and keys. Every function takes the RPC context the interceptor
 * chain made, so the tenant it acts on is already authorized; each change is audited in the transaction that
 * makes it.
 */
import type { AuditLevel } from "../audit/index.js";
import { describePrincipal } from "../authz/index.js";
import { invalidArgument, notFound, TenantMeshError } from "../errors/index.js";
import type { RpcContext } from "../grpc/index.js";
import { fromText, toText, versionOf } from "./envelope.js";
import type { KeyInfo } from "./keyring.js";
import { applyPolicyUpdate, type PolicyInput } from "./policy-update.js";
import { readPolicy, writePolicy } from "./policy-store.js";
import { rewrapSealedColumns } from "./sealed-columns.js";
import type { SecurityPolicy } from "./policy.js";
import type { SecurityRuntime } from "./runtime.js";

export interface SecurityDeps {
  runtime: SecurityRuntime;
  now(): Date;
}

/** The authorized tenant; an operator who named none gets INVALID_ARGUMENT */
export function tenantOf(ctx: Pick<RpcContext, "tenantId">): string {
  if (ctx.tenantId === undefined || ctx.tenantId === "") throw invalidArgument([{ field: "tenant_id", description: "is required" }]);
  return ctx.tenantId;
}

/**
 * API callers' contexts live in their own namespace: a ciphertext the platform made for a column
 * (`users/<id>/mfa_secret`) can never be opened through Decrypt, whatever context a caller names.
 */
const apiContext = (context: string): string => `api:${context}`;

export async function getPolicy(ctx: RpcContext): Promise<SecurityPolicy> {
  const tenantId = tenantOf(ctx);
  return ctx.inTenant((trx) => readPolicy(trx, tenantId));
}

/** Field by field, what an update changed (the audit event's detail), named as on the wire */
function diff(before: SecurityPolicy, after: SecurityPolicy): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as Array<keyof SecurityPolicy>) {
    if (key === "updatedAt" || key === "updatedBy") continue;
    const wire = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) out[wire] = { from: before[key], to: after[key] };
  }
  return out;
}

export async function updatePolicy(deps: SecurityDeps, ctx: RpcContext, input: PolicyInput, mask: readonly string[]): Promise<SecurityPolicy> {
  const tenantId = tenantOf(ctx);
  const actor = describePrincipal(ctx.principal);
  return ctx.inTenant(async (trx) => {
    const current = await readPolicy(trx, tenantId, { lock: true });
    const next = { ...applyPolicyUpdate(current, input, mask, ctx.principal.kind === "operator"), updatedAt: deps.now(), updatedBy: actor };
    // A user who requires MFA of everyone without having it would lock themself out at the next sign-in.
    if (next.securityFeatures.mfa && !current.securityFeatures.mfa && ctx.principal.kind === "user") {
      const me = (await trx("users").where({ id: ctx.principal.userId }).first("mfa_enabled")) as { mfa_enabled: boolean | null } | undefined;
      if (me?.mfa_enabled !== true) {
        throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "turn on MFA for yourself (EnrollMfa, ConfirmMfa) before requiring it of every user");
      }
    }
    await writePolicy(trx, next);
    await ctx.audit({ action: "policy.updated", target: `tenant:${tenantId}`, essential: true, detail: { paths: [...mask], changes: diff(current, next) } }, trx);
    return next;
  });
}

/**
 * Audit levels by tenant, cached briefly: Encrypt and Decrypt are recorded only at `comprehensive`, and
 * must not pay a database round trip to learn that they are not.
 */
export class AuditLevelCache {
  readonly #entries = new Map<string, { level: AuditLevel; expiresAt: number }>();
  constructor(private readonly ttlMs = 5_000) {}

  async get(ctx: RpcContext, tenantId: string): Promise<AuditLevel> {
    const hit = this.#entries.get(tenantId);
    if (hit !== undefined && hit.expiresAt > Date.now()) return hit.level;
    const level = (await ctx.inTenant((trx) => readPolicy(trx, tenantId))).auditLevel;
    this.#entries.set(tenantId, { level, expiresAt: Date.now() + this.ttlMs });
    return level;
  }

  forget(tenantId: string): void {
    this.#entries.delete(tenantId);
  }
}

export async function encrypt(deps: SecurityDeps, ctx: RpcContext, levels: AuditLevelCache, plaintext: Buffer, context: string): Promise<{ ciphertext: string; keyVersion: number }> {
  const tenantId = tenantOf(ctx);
  const ciphertext = await deps.runtime.keyring.encrypt(tenantId, plaintext, apiContext(context));
  const keyVersion = versionOf(ciphertext) ?? 0;
  if ((await levels.get(ctx, tenantId)) === "comprehensive") {
    await ctx.audit({ action: "data.encrypted", target: `key:v${keyVersion}`, detail: { bytes: plaintext.length, context } });
  }
  return { ciphertext: toText(ciphertext), keyVersion };
}

function parseCiphertext(text: string): Buffer {
  const bytes = fromText(text);
  if (bytes === undefined) throw new TenantMeshError("TM_ERR_DECRYPTION_FAILED", "the ciphertext is not of the form tmenc:v<version>:<base64url>");
  return bytes;
}

export async function decrypt(deps: SecurityDeps, ctx: RpcContext, levels: AuditLevelCache, text: string, context: string): Promise<{ plaintext: Buffer; keyVersion: number }> {
  const tenantId = tenantOf(ctx);
  const ciphertext = parseCiphertext(text);
  const keyVersion = versionOf(ciphertext) ?? 0;
  let plaintext: Buffer;
  try {
    plaintext = await deps.runtime.keyring.decrypt(tenantId, ciphertext, apiContext(context));
  } catch (err) {
    await ctx.audit({ action: "data.decrypted", outcome: "failure", target: `key:v${keyVersion}`, detail: { context, error: (err as TenantMeshError).code } });
    throw err;
  }
  if ((await levels.get(ctx, tenantId)) === "comprehensive") {
    await ctx.audit({ action: "data.decrypted", target: `key:v${keyVersion}`, detail: { bytes: plaintext.length, context } });
  }
  return { plaintext, keyVersion };
}

export async function rewrap(deps: SecurityDeps, ctx: RpcContext, levels: AuditLevelCache, text: string, context: string): Promise<{ ciphertext: string; keyVersion: number }> {
  const tenantId = tenantOf(ctx);
  const before = parseCiphertext(text);
  const after = await deps.runtime.keyring.rewrap(tenantId, before, apiContext(context));
  const keyVersion = versionOf(after) ?? 0;
  if ((await levels.get(ctx, tenantId)) === "comprehensive") {
    await ctx.audit({ action: "data.rewrapped", target: `key:v${keyVersion}`, detail: { from_version: versionOf(before), to_version: keyVersion, context } });
  }
  return { ciphertext: toText(after), keyVersion };
}

export async function rotateKey(deps: SecurityDeps, ctx: RpcContext): Promise<KeyInfo> {
  const tenantId = tenantOf(ctx);
  return ctx.inTenant(async (trx) => {
    const version = await deps.runtime.keyring.rotate(trx, tenantId);
    await ctx.audit({ action: version === 1 ? "key.created" : "key.rotated", target: `key:v${version}`, detail: { version, trigger: "manual" } }, trx);
    return deps.runtime.keyring.info(trx, tenantId);
  });
}

export async function keyInfo(deps: SecurityDeps, ctx: RpcContext): Promise<KeyInfo> {
  const tenantId = tenantOf(ctx);
  const info = await ctx.inTenant(async (trx) => {
    if ((await trx("tenants").where({ id: tenantId }).first("id")) === undefined) throw notFound(`tenant ${tenantId}`);
    return deps.runtime.keyring.info(trx, tenantId);
  });
  return info;
}

export async function updateKeyConfig(deps: SecurityDeps, ctx: RpcContext, minDecryptionVersion: number): Promise<KeyInfo> {
  const tenantId = tenantOf(ctx);
  return ctx.inTenant(async (trx) => {
    const before = await deps.runtime.keyring.info(trx, tenantId);
    // The platform's own sealed columns move to the newest version first: retiring must not strand them.
    const rewrapped =
      minDecryptionVersion > before.minDecryptionVersion
        ? await rewrapSealedColumns(trx, tenantId, await deps.runtime.keyring.tenant(tenantId, trx), minDecryptionVersion)
        : 0;
    await deps.runtime.keyring.setMinDecryptionVersion(trx, tenantId, minDecryptionVersion);
    await ctx.audit(
      {
        action: "key.min_decryption_version_changed",
        target: `tenant:${tenantId}`,
        essential: true,
        detail: { from: before.minDecryptionVersion, to: minDecryptionVersion, platform_values_rewrapped: rewrapped },
      },
      trx,
    );
    return deps.runtime.keyring.info(trx, tenantId);
  });
}
