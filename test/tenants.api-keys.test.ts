import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKeySecret, parseApiKey } from "../src/auth/api-key.js";
import { ManualClock } from "../src/auth/index.js";
import type { CreateApiKeyRequest, ProvisionTenantResponse, TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { LAST_USED_RESOLUTION_MS } from "../src/tenants/index.js";
import { bearer, failure, provision, rpc, tenantClient } from "../src/tenants/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
let tcp: TestControlPlane;
let client: TenantServiceClient;
let t: ProvisionTenantResponse;
let tenantId: string;

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  client = tenantClient(tcp.address);
  t = await provision(client, tcp.adminToken);
  tenantId = t.tenant?.id ?? "";
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

const keyRequest = (fields: Partial<CreateApiKeyRequest> = {}): CreateApiKeyRequest => ({ tenantId: "", name: "ci", role: "", expiresAt: undefined, ...fields });
const createKey = (token: string, fields: Partial<CreateApiKeyRequest> = {}) => rpc(client, client.createApiKey, keyRequest(fields), bearer(token));
const getOwn = (token: string) => rpc(client, client.getTenant, {}, bearer(token));
const revoke = (token: string, keyId: string) => rpc(client, client.revokeApiKey, { tenantId: "", keyId }, bearer(token));
const stored = (keyId: string) =>
  tcp.cp.db.asPlatform((trx) => trx("api_keys").where({ key_id: keyId }).first()) as Promise<{ secret_hash: string; last_used_at: Date | null }>;

describe("CreateApiKey", () => {
  it("returns the token once and stores only the HMAC of its secret", async () => {
    const res = await createKey(t.apiKey, { name: "deploy bot", role: "manager" });
    const parsed = parseApiKey(res.apiKey);
    expect(parsed?.keyId).toBe(res.key?.keyId);
    expect(res.key).toMatchObject({ tenantId, name: "deploy bot", role: "manager", prefix: `tm_${parsed?.keyId}_…` });
    expect(JSON.stringify(res.key)).not.toContain(parsed?.secret);
    const row = await stored(res.key?.keyId ?? "");
    expect(row.secret_hash).toBe(hashApiKeySecret(Buffer.from(tcp.cp.secrets.apiKeyPepper), parsed?.keyId ?? "", parsed?.secret ?? ""));
    expect((await getOwn(res.apiKey)).id).toBe(tenantId);
  });

  it("defaults the role to user; an operator names the tenant", async () => {
    expect((await createKey(t.apiKey)).key?.role).toBe("user");
    expect((await createKey(tcp.adminToken, { tenantId, role: "admin" })).key).toMatchObject({ tenantId, role: "admin" });
    expect(await failure(createKey(tcp.adminToken))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("refuses a bad name, role or expiry", async () => {
    expect(await failure(createKey(t.apiKey, { name: " " }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(createKey(t.apiKey, { role: "root" }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(createKey(t.apiKey, { expiresAt: new Date(clock.now() - 1) }))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("never makes a key with a higher role than its creator's", async () => {
    const manager = (await createKey(t.apiKey, { role: "manager" })).apiKey;
    expect((await createKey(manager, { role: "user" })).key?.role).toBe("user");
    expect((await createKey(manager, { role: "manager" })).key?.role).toBe("manager");
    const f = await failure(createKey(manager, { role: "admin" }));
    expect(f).toMatchObject({ code: status.PERMISSION_DENIED, details: "a key cannot have a higher role than its creator" });
  });
});

describe("a viewer key", () => {
  it("reads its tenant but cannot write anything", async () => {
    const viewer = (await createKey(t.apiKey, { role: "viewer" })).apiKey;
    expect((await getOwn(viewer)).id).toBe(tenantId);
    const denied = { code: status.PERMISSION_DENIED };
    expect(await failure(createKey(viewer, { role: "viewer" }))).toMatchObject(denied);
    expect(await failure(revoke(viewer, t.apiKeyInfo?.keyId ?? ""))).toMatchObject(denied);
    expect(await failure(rpc(client, client.listApiKeys, { tenantId: "", includeRevoked: false }, bearer(viewer)))).toMatchObject(denied);
    const rename = { tenant: { ...(await getOwn(viewer)), name: "viewer was here" }, updateMask: ["name"] };
    expect(await failure(rpc(client, client.updateTenant, rename, bearer(viewer)))).toMatchObject(denied);
    expect((await getOwn(viewer)).name).not.toBe("viewer was here");
  });
});

describe("ListApiKeys and RevokeApiKey", () => {
  it("lists live keys, and revoked ones on request", async () => {
    const k = await createKey(t.apiKey, { name: "to revoke" });
    await revoke(t.apiKey, k.key?.keyId ?? "");
    const live = await rpc(client, client.listApiKeys, { tenantId: "", includeRevoked: false }, bearer(t.apiKey));
    const all = await rpc(client, client.listApiKeys, { tenantId, includeRevoked: true }, bearer(tcp.adminToken));
    expect(live.keys.map((x) => x.keyId)).not.toContain(k.key?.keyId);
    expect(all.keys.find((x) => x.keyId === k.key?.keyId)?.revokedAt).toBeInstanceOf(Date);
    expect(all.keys.every((x) => x.tenantId === tenantId)).toBe(true);
  });

  it("refuses a revoked key at once, and revoking again changes nothing", async () => {
    const k = await createKey(t.apiKey);
    expect((await getOwn(k.apiKey)).id).toBe(tenantId);
    const revoked = await revoke(t.apiKey, k.key?.keyId ?? "");
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await failure(getOwn(k.apiKey))).toMatchObject({ code: status.UNAUTHENTICATED });
    expect((await revoke(t.apiKey, k.key?.keyId ?? "")).revokedAt).toEqual(revoked.revokedAt);
  });

  it("answers NOT_FOUND for an unknown key", async () => {
    expect(await failure(revoke(t.apiKey, "aaaaaaaaaaaa"))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(revoke(t.apiKey, "../../etc"))).toMatchObject({ code: status.NOT_FOUND });
  });

  it("refuses an expired key", async () => {
    const k = await createKey(t.apiKey, { expiresAt: new Date(clock.now() + 60_000) });
    expect((await getOwn(k.apiKey)).id).toBe(tenantId);
    clock.advance(60_000);
    expect(await failure(getOwn(k.apiKey))).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("refuses a wrong secret for a real key id", async () => {
    const k = await createKey(t.apiKey);
    const forged = `tm_${k.key?.keyId}_${"A".repeat(32)}`;
    expect(await failure(getOwn(forged))).toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe("API key use", () => {
  it("records last_used_at at most once per minute", async () => {
    const k = await createKey(t.apiKey);
    const keyId = k.key?.keyId ?? "";
    expect((await stored(keyId)).last_used_at).toBeNull();
    await getOwn(k.apiKey);
    const first = (await stored(keyId)).last_used_at;
    expect(first?.getTime()).toBe(clock.now());
    clock.advance(LAST_USED_RESOLUTION_MS - 1);
    await getOwn(k.apiKey);
    expect((await stored(keyId)).last_used_at?.getTime()).toBe(first?.getTime());
    clock.advance(1);
    await getOwn(k.apiKey);
    expect((await stored(keyId)).last_used_at?.getTime()).toBe(clock.now());
  });
});

describe("keys of a tenant that is not active", () => {
  it("are refused while the tenant is suspended or cancelled, and work again after reactivation", async () => {
    const other = await provision(client, tcp.adminToken);
    const id = other.tenant?.id ?? "";
    const op = bearer(tcp.adminToken);
    await rpc(client, client.suspendTenant, { id, reason: "" }, op);
    expect(await failure(getOwn(other.apiKey))).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_TENANT_INACTIVE" });
    await rpc(client, client.reactivateTenant, { id, reason: "" }, op);
    expect((await getOwn(other.apiKey)).id).toBe(id);
    await rpc(client, client.cancelTenant, { id, reason: "" }, op);
    expect(await failure(getOwn(other.apiKey))).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_TENANT_INACTIVE" });
  });
});
