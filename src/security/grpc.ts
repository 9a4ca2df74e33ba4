/**
 * tenantmesh.v1.SecurityService over the RpcKit chain. Who may call what:
 *
 *   GetSecurityPolicy, GetKeyInfo                             security:read on the tenant
 *   UpdateSecurityPolicy, Encrypt, Decrypt, Rewrap,
 *   RotateKey, UpdateKeyConfig                                security:write on the tenant
 *   ListAuditEvents, VerifyAuditLog                           audit:read on the tenant
 *   PurgeTenant, RotateMasterKey                              operator
 *
 * An empty tenant_id means the caller's own tenant; another tenant's id is PERMISSION_DENIED, exactly as an
 * unknown one, so nothing is learnt about other tenants.
 */
import { z } from "zod";
import { describePrincipal, principalTenant, type Permission, type Principal } from "../authz/index.js";
import { invalidArgument } from "../errors/index.js";
import { SecurityServiceService, type SecurityServiceServer } from "../gen/tenantmesh/v1/security.js";
import { parseRequest, type Policy, type RpcKit } from "../grpc/index.js";
import { requireUuid } from "../tenants/service.js";
import type { Database } from "../db/index.js";
import { listAuditEvents, verifyAuditLog } from "./audit-service.js";
import { toAuditEventMessage, toKeyInfoMessage, toPolicyMessage, toReceiptMessage, toVerifyMessage } from "./messages.js";
import { AuditLevelCache, decrypt, encrypt, getPolicy, keyInfo, rewrap, rotateKey, updateKeyConfig, updatePolicy, type SecurityDeps } from "./service.js";
import { purgeTenant } from "./shred.js";

export { SecurityServiceService };

const MAX_PLAINTEXT = 1024 * 1024;
const context = z.string().max(1_024, "must be at most 1024 characters");
const ciphertext = z.string().min(1, "is required").max(2 * MAX_PLAINTEXT, "is too long");

const policySchema = z.object({
  encryptionLevel: z.string().max(50),
  accessControlLevel: z.string().max(50),
  auditLevel: z.string().max(50),
  dataRetentionDays: z.number().int(),
  complianceStandards: z.array(z.string().max(50)).max(10),
  securityFeatures: z.record(z.string().max(50), z.boolean()),
  networkRestrictions: z.array(z.string().max(100)).max(1_000),
  countryRestrictions: z.array(z.string().max(10)).max(300),
  keyRotationDays: z.number().int(),
});
const updateSchema = z.object({ policy: policySchema, updateMask: z.array(z.string().max(100)).max(50).default([]) });
const encryptSchema = z.object({ plaintext: z.instanceof(Uint8Array).refine((b) => b.length <= MAX_PLAINTEXT, "must be at most 1 MiB"), context });
const decryptSchema = z.object({ ciphertext, context });
const listSchema = z.object({
  pageSize: z.number().int().min(0, "must not be negative"),
  pageToken: z.string().max(1_024),
  action: z.string().max(100),
});
const keyConfigSchema = z.object({ minDecryptionVersion: z.number().int().min(1, "must be at least 1") });
const purgeSchema = z.object({ tenantId: z.uuid("must be a UUID"), confirmSlug: z.string().min(1, "is required").max(100), reason: z.string().max(500) });

/** A tenant policy on the request's tenant_id; empty means the caller's own */
function onTenant<Req extends { tenantId: string }>(permission: Permission): Policy<Req> {
  return {
    kind: "tenant",
    permission,
    tenant: (req: Req, p: Principal) => (req.tenantId === "" ? principalTenant(p) : requireUuid(req.tenantId, "tenant_id")),
  };
}

export function securityServiceImplementation(kit: RpcKit, db: Database, deps: SecurityDeps): SecurityServiceServer {
  const levels = new AuditLevelCache();
  const keystore = deps.runtime.keystore.kind;
  return {
    getSecurityPolicy: kit.unary("SecurityService/GetSecurityPolicy", onTenant("security:read"), async (_req, ctx) => toPolicyMessage(await getPolicy(ctx))),

    updateSecurityPolicy: kit.unary("SecurityService/UpdateSecurityPolicy", onTenant("security:write"), async (req, ctx) => {
      const input = parseRequest(updateSchema, req);
      const policy = await updatePolicy(deps, ctx, input.policy, input.updateMask);
      levels.forget(policy.tenantId);
      return toPolicyMessage(policy);
    }),

    encrypt: kit.unary("SecurityService/Encrypt", onTenant("security:write"), async (req, ctx) => {
      const input = parseRequest(encryptSchema, req);
      return encrypt(deps, ctx, levels, Buffer.from(input.plaintext), input.context);
    }),

    decrypt: kit.unary("SecurityService/Decrypt", onTenant("security:write"), async (req, ctx) => {
      const input = parseRequest(decryptSchema, req);
      return decrypt(deps, ctx, levels, input.ciphertext, input.context);
    }),

    rewrap: kit.unary("SecurityService/Rewrap", onTenant("security:write"), async (req, ctx) => {
      const input = parseRequest(decryptSchema, req);
      return rewrap(deps, ctx, levels, input.ciphertext, input.context);
    }),

    rotateKey: kit.unary("SecurityService/RotateKey", onTenant("security:write"), async (_req, ctx) => toKeyInfoMessage(await rotateKey(deps, ctx), keystore)),

    getKeyInfo: kit.unary("SecurityService/GetKeyInfo", onTenant("security:read"), async (_req, ctx) => toKeyInfoMessage(await keyInfo(deps, ctx), keystore)),

    updateKeyConfig: kit.unary("SecurityService/UpdateKeyConfig", onTenant("security:write"), async (req, ctx) => {
      const input = parseRequest(keyConfigSchema, req);
      return toKeyInfoMessage(await updateKeyConfig(deps, ctx, input.minDecryptionVersion), keystore);
    }),

    listAuditEvents: kit.unary("SecurityService/ListAuditEvents", onTenant("audit:read"), async (req, ctx) => {
      const input = parseRequest(listSchema, req);
      const page = await listAuditEvents({ db, runtime: deps.runtime }, ctx, input);
      return { events: page.events.map(toAuditEventMessage), nextPageToken: page.nextPageToken };
    }),

    verifyAuditLog: kit.unary("SecurityService/VerifyAuditLog", onTenant("audit:read"), async (_req, ctx) =>
      toVerifyMessage(await verifyAuditLog({ db, runtime: deps.runtime }, ctx)),
    ),

    purgeTenant: kit.unary("SecurityService/PurgeTenant", { kind: "operator" }, async (req, ctx) => {
      const input = parseRequest(purgeSchema, req);
      const slug = (await db.asPlatform((trx) => trx("tenants").where({ id: input.tenantId }).first("slug"))) as { slug: string } | undefined;
      if (slug !== undefined && slug.slug !== input.confirmSlug) {
        throw invalidArgument([{ field: "confirm_slug", description: "must repeat the tenant's slug" }]);
      }
      const receipt = await purgeTenant(
        { db, keyring: deps.runtime.keyring, audit: deps.runtime.audit, clock: { now: () => deps.now().getTime() } },
        { tenantId: input.tenantId, actor: describePrincipal(ctx.principal), reason: input.reason, requestId: ctx.requestId },
      );
      ctx.log.warn({ tenant_id: input.tenantId, receipt_id: receipt.receiptId }, "tenant crypto-shredded");
      return toReceiptMessage(receipt);
    }),

    rotateMasterKey: kit.unary("SecurityService/RotateMasterKey", { kind: "operator" }, async (_req, ctx) => {
      const out = await deps.runtime.rotateMasterKey(describePrincipal(ctx.principal));
      ctx.log.warn({ master_key_id: out.masterKeyId, tenants: out.tenants }, "master key rotated");
      return { masterKeyId: out.masterKeyId, tenants: out.tenants, dataKeysRewrapped: out.dataKeys };
    }),
  };
}
