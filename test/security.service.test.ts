import { status, type Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, totpCode } from "../src/auth/index.js";
import { issueServiceToken } from "../src/control-plane/index.js";
import type { SecurityPolicy, SecurityServiceClient } from "../src/gen/tenantmesh/v1/security.js";
import type { ProvisionTenantResponse, TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { securityClient, unaryCall } from "../src/security/testing.js";
import { bearer, failure, provision, tenantClient, watch } from "../src/tenants/testing.js";
import { newUserRequest, rpc as userRpc, userClient } from "../src/users/testing.js";
import { isAddressAllowed } from "../proxy/directory/static.js";
import { tenantEntryFromConfig } from "../proxy/directory/entry.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

/**
 * SecurityService through the real control plane: policies with plan defaults, validation and enforcement
 * (MFA in Authenticate, network restrictions through the proxies' feed), encryption RPCs, the audit trail of
 * the whole flow, and tenant B's credentials against tenant A.
 */
const clock = new ManualClock(Math.floor(Date.parse("2026-11-29T12:00:00Z") / 30_000) * 30_000);
let tcp: TestControlPlane;
let sec: SecurityServiceClient;
let tenants: TenantServiceClient;
let users: UserServiceClient;
let a: ProvisionTenantResponse;
let b: ProvisionTenantResponse;

const policyInput = (p: Partial<SecurityPolicy>): SecurityPolicy => ({
  tenantId: "",
  encryptionLevel: "",
  accessControlLevel: "",
  auditLevel: "",
  dataRetentionDays: 0,
  complianceStandards: [],
  securityFeatures: {},
  networkRestrictions: [],
  countryRestrictions: [],
  keyRotationDays: 0,
  updatedAt: undefined,
  updatedBy: "",
  notEnforced: [],
  ...p,
});
const getPolicy = (md: Metadata, tenantId = "") => unaryCall(sec, sec.getSecurityPolicy, { tenantId }, md);
const update = (md: Metadata, policy: Partial<SecurityPolicy>, mask: string[], tenantId = "") =>
  unaryCall(sec, sec.updateSecurityPolicy, { tenantId, policy: policyInput(policy), updateMask: mask }, md);
const key = (t: ProvisionTenantResponse): Metadata => bearer(t.apiKey);
const signIn = (t: ProvisionTenantResponse, email: string, password: string, code = "") =>
  userRpc(users, users.authenticate, { tenantSlug: t.tenant?.slug ?? "", email, password, totpCode: code });
const auditActions = async (t: ProvisionTenantResponse): Promise<string[]> =>
  (await unaryCall(sec, sec.listAuditEvents, { tenantId: "", pageSize: 1_000, pageToken: "", action: "" }, key(t))).events.map((e) => e.action);

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  sec = securityClient(tcp.address);
  tenants = tenantClient(tcp.address);
  users = userClient(tcp.address);
  a = await provision(tenants, tcp.adminToken, { planType: "professional" });
  b = await provision(tenants, tcp.adminToken, { planType: "free" });
});
afterAll(async () => {
  sec.close();
  tenants.close();
  users.close();
  await tcp.close();
});

describe("policy", () => {
  it("starts from the plan's defaults, with every field of the seed's SecurityPolicy", async () => {
    expect(await getPolicy(key(a))).toMatchObject({
      tenantId: a.tenant?.id,
      encryptionLevel: "enhanced",
      accessControlLevel: "role_based",
      auditLevel: "detailed",
      dataRetentionDays: 2555,
      complianceStandards: ["SOC2"],
      securityFeatures: { mfa: false, sso: false, ip_whitelist: false },
      networkRestrictions: [],
      keyRotationDays: 90,
      notEnforced: [],
    });
    expect(await getPolicy(key(b))).toMatchObject({ encryptionLevel: "standard", auditLevel: "basic", complianceStandards: [], keyRotationDays: 365 });
  });

  it("validates every field and the whole, reporting all problems at once", async () => {
    const bad = await failure(
      update(key(a), { encryptionLevel: "quantum", auditLevel: "everything", complianceStandards: ["ISO27001"], countryRestrictions: ["XX"] }, [
        "encryption_level",
        "audit_level",
        "compliance_standards",
        "country_restrictions",
      ]),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    for (const field of ["encryption_level", "audit_level", "compliance_standards", "country_restrictions"]) expect(bad.details).toContain(field);
    const tooSlow = await failure(update(key(a), { encryptionLevel: "military", keyRotationDays: 90 }, ["encryption_level", "key_rotation_days"]));
    expect(tooSlow.details).toMatch(/military rotates keys at least every 30 days/);
    const whitelist = await failure(update(key(a), { securityFeatures: { ip_whitelist: true } }, ["security_features.ip_whitelist"]));
    expect(whitelist.details).toMatch(/follows network_restrictions/);
    expect((await failure(update(key(a), {}, ["no_such_field"]))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(update(key(a), {}, []))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(update(key(a), { networkRestrictions: ["10.0.0.0/99"] }, ["network_restrictions"]))).code).toBe(status.INVALID_ARGUMENT);
    // Retention is operator-only, as in UpdateTenant.
    expect((await failure(update(key(a), { dataRetentionDays: 30 }, ["data_retention_days"]))).code).toBe(status.PERMISSION_DENIED);
    const byOperator = await update(bearer(tcp.adminToken), { dataRetentionDays: 2_190 }, ["data_retention_days"], a.tenant?.id);
    expect(byOperator.dataRetentionDays).toBe(2_190);
    expect((await unaryCall(tenants, tenants.getTenant, { id: a.tenant?.id ?? "" }, key(a))).dataRetentionDays).toBe(2_190);
  });

  it("stores and shows what it cannot enforce, saying so", async () => {
    const p = await update(key(b), { securityFeatures: { sso: true }, accessControlLevel: "attribute_based", countryRestrictions: ["de", "FR"] }, [
      "security_features.sso",
      "access_control_level",
      "country_restrictions",
    ]);
    expect(p).toMatchObject({ securityFeatures: { sso: true }, accessControlLevel: "attribute_based", countryRestrictions: ["DE", "FR"] });
    expect(p.notEnforced.join("\n")).toMatch(/sso/);
    expect(p.notEnforced.join("\n")).toMatch(/attribute_based/);
    expect(p.notEnforced.join("\n")).toMatch(/country_restrictions/);
    expect((await getPolicy(key(b))).notEnforced).toHaveLength(3);
  });

  it("network restrictions are the tenant's one column, and reach the proxy's admission through the feed", async () => {
    const reader = watch(tenants, issueServiceToken(tcp.cp.secrets, "proxy", ["tenants:watch"], { clock }));
    try {
      await reader.next(5_000);
      const p = await update(key(a), { networkRestrictions: ["10.1.0.0/16", "2001:db8::1"] }, ["network_restrictions"]);
      expect(p.networkRestrictions).toEqual(["10.1.0.0/16", "2001:db8::1/128"]);
      expect(p.securityFeatures.ip_whitelist).toBe(true);
      expect((await unaryCall(tenants, tenants.getTenant, { id: a.tenant?.id ?? "" }, key(a))).networkRestrictions).toEqual(p.networkRestrictions);
      const change = await reader.until((m) => m.change?.config?.tenant?.networkRestrictions.length === 2, 5_000);
      const entry = tenantEntryFromConfig(change.change?.config ?? { tenant: undefined, apiKeys: [], sessionsValidAfter: undefined });
      expect(entry).toBeDefined();
      expect(isAddressAllowed(entry!.entry, "10.1.2.3")).toBe(true);
      expect(isAddressAllowed(entry!.entry, "192.0.2.1")).toBe(false);
    } finally {
      reader.cancel();
    }
    await update(key(a), { networkRestrictions: [] }, ["network_restrictions"]);
  });
});

describe("MFA required", () => {
  it("is refused to an admin without MFA, then enforced in Authenticate for every user", async () => {
    const email = a.adminUser?.email ?? "";
    const session = await signIn(a, email, a.adminPassword);
    const admin = bearer(session.sessionToken);
    expect((await failure(update(admin, { securityFeatures: { mfa: true } }, ["security_features.mfa"]))).details).toMatch(/turn on MFA for yourself/);
    const { secret } = await userRpc(users, users.enrollMfa, { tenantId: "", userId: "", code: "" }, admin);
    await userRpc(users, users.confirmMfa, { tenantId: "", userId: "", code: totpCode(secret, clock.now()) }, admin);
    clock.advance(30_000);
    // The secret is at rest sealed with the tenant's key, not in the clear.
    const row = await tcp.cp.db.withTenant(a.tenant?.id ?? "", (trx) => trx("users").where({ id: a.adminUser?.id }).first("mfa_secret"));
    expect(row.mfa_secret).toMatch(/^tmenc:v1:/);
    expect(row.mfa_secret).not.toContain(secret);

    expect((await update(admin, { securityFeatures: { mfa: true } }, ["security_features.mfa"])).securityFeatures.mfa).toBe(true);
    const plain = await userRpc(users, users.createUser, newUserRequest({ role: "user" }), key(a));
    const refused = await failure(signIn(a, plain.email, "correct-Horse-battery-9"));
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    expect(refused.details).toMatch(/requires MFA/);
    expect((await failure(signIn(a, email, a.adminPassword))).details).toMatch(/TOTP code is required/);
    expect((await signIn(a, email, a.adminPassword, totpCode(secret, clock.now()))).sessionToken).toMatch(/^tms_/);
    // A user may not drop their own MFA while the policy requires it.
    const again = bearer((await signIn(a, email, a.adminPassword, totpCode(secret, clock.now() + 30_000))).sessionToken);
    expect((await failure(userRpc(users, users.disableMfa, { tenantId: "", userId: "", code: totpCode(secret, clock.now() + 60_000) }, again))).details).toMatch(
      /requires MFA/,
    );
    await update(bearer(tcp.adminToken), { securityFeatures: { mfa: false } }, ["security_features.mfa"], a.tenant?.id);
  });
});

describe("keys over RPC", () => {
  it("encrypts, rotates, rewraps and retires; B can never decrypt A's data", async () => {
    const enc = await unaryCall(sec, sec.encrypt, { tenantId: "", plaintext: Buffer.from("card 4111"), context: "cards/1" }, key(a));
    expect(enc.ciphertext).toMatch(/^tmenc:v1:/);
    const rotated = await unaryCall(sec, sec.rotateKey, { tenantId: "" }, key(a));
    expect(rotated).toMatchObject({ latestVersion: 2, minDecryptionVersion: 1, keystore: "file" });
    const dec = await unaryCall(sec, sec.decrypt, { tenantId: "", ciphertext: enc.ciphertext, context: "cards/1" }, key(a));
    expect(Buffer.from(dec.plaintext).toString()).toBe("card 4111");
    const re = await unaryCall(sec, sec.rewrap, { tenantId: "", ciphertext: enc.ciphertext, context: "cards/1" }, key(a));
    expect(re).toMatchObject({ keyVersion: 2 });
    expect(JSON.stringify(re)).not.toContain("card 4111");
    await unaryCall(sec, sec.updateKeyConfig, { tenantId: "", minDecryptionVersion: 2 }, key(a));
    // The platform's own columns were moved to version 2 first: the admin's MFA secret still opens.
    const mfa = await tcp.cp.db.withTenant(a.tenant?.id ?? "", (trx) => trx("users").where({ id: a.adminUser?.id }).first("mfa_secret"));
    expect(mfa.mfa_secret).toMatch(/^tmenc:v2:/);
    expect((await failure(unaryCall(sec, sec.decrypt, { tenantId: "", ciphertext: enc.ciphertext, context: "cards/1" }, key(a)))).tmCode).toBe("TM_ERR_KEY_RETIRED");
    expect(Buffer.from((await unaryCall(sec, sec.decrypt, { tenantId: "", ciphertext: re.ciphertext, context: "cards/1" }, key(a))).plaintext).toString()).toBe("card 4111");

    expect((await failure(unaryCall(sec, sec.decrypt, { tenantId: "", ciphertext: re.ciphertext, context: "cards/1" }, key(b)))).tmCode).toBe("TM_ERR_DECRYPTION_FAILED");
    expect((await failure(unaryCall(sec, sec.decrypt, { tenantId: a.tenant?.id ?? "", ciphertext: re.ciphertext, context: "cards/1" }, key(b)))).code).toBe(
      status.PERMISSION_DENIED,
    );
    // Ciphertexts the platform made for its own columns never open through Decrypt.
    const row = await tcp.cp.db.withTenant(a.tenant?.id ?? "", (trx) => trx("users").where({ id: a.adminUser?.id }).first("mfa_secret"));
    const ctx = `users/${a.adminUser?.id}/mfa_secret`;
    expect((await failure(unaryCall(sec, sec.decrypt, { tenantId: "", ciphertext: row.mfa_secret, context: ctx }, key(a)))).tmCode).toBe("TM_ERR_DECRYPTION_FAILED");
  });
});

describe("tenant B against tenant A", () => {
  it("cannot read or change A's policy, keys or audit log", async () => {
    const aId = a.tenant?.id ?? "";
    const calls: Array<() => Promise<unknown>> = [
      () => getPolicy(key(b), aId),
      () => update(key(b), { auditLevel: "basic" }, ["audit_level"], aId),
      () => unaryCall(sec, sec.getKeyInfo, { tenantId: aId }, key(b)),
      () => unaryCall(sec, sec.rotateKey, { tenantId: aId }, key(b)),
      () => unaryCall(sec, sec.listAuditEvents, { tenantId: aId, pageSize: 10, pageToken: "", action: "" }, key(b)),
      () => unaryCall(sec, sec.verifyAuditLog, { tenantId: aId }, key(b)),
      () => unaryCall(sec, sec.encrypt, { tenantId: aId, plaintext: Buffer.from("x"), context: "" }, key(b)),
      () => unaryCall(sec, sec.purgeTenant, { tenantId: aId, confirmSlug: a.tenant?.slug ?? "", reason: "" }, key(b)),
      () => unaryCall(sec, sec.rotateMasterKey, {}, key(b)),
    ];
    for (const call of calls) expect((await failure(call())).code).toBe(status.PERMISSION_DENIED);
    expect((await getPolicy(key(a))).auditLevel).toBe("detailed");
  });
});

describe("audit trail", () => {
  it("records the flow above, and the chain verifies", async () => {
    const actions = await auditActions(a);
    for (const action of ["tenant.provisioned", "key.created", "policy.updated", "auth.success", "auth.failure", "user.created", "user.mfa_enabled", "key.rotated", "key.min_decryption_version_changed"]) {
      expect(actions, action).toContain(action);
    }
    const failures = await unaryCall(sec, sec.listAuditEvents, { tenantId: "", pageSize: 100, pageToken: "", action: "auth.failure" }, key(a));
    expect(failures.events.map((e) => JSON.parse(e.detailJson).reason)).toContain("mfa_required_not_enrolled");
    const verified = await unaryCall(sec, sec.verifyAuditLog, { tenantId: "" }, key(a));
    expect(verified).toMatchObject({ ok: true, reason: "" });
    // The listing itself was recorded (data.exported) after it was read.
    expect(Number(verified.checked)).toBe(actions.length + 2);
  });

  it("pages through the log with tokens bound to the filter", async () => {
    const first = await unaryCall(sec, sec.listAuditEvents, { tenantId: "", pageSize: 2, pageToken: "", action: "" }, key(a));
    expect(first.events.map((e) => e.seq)).toEqual(["1", "2"]);
    const second = await unaryCall(sec, sec.listAuditEvents, { tenantId: "", pageSize: 2, pageToken: first.nextPageToken, action: "" }, key(a));
    expect(second.events[0]?.seq).toBe("3");
    expect((await failure(unaryCall(sec, sec.listAuditEvents, { tenantId: "", pageSize: 2, pageToken: first.nextPageToken, action: "auth.failure" }, key(a)))).code).toBe(
      status.INVALID_ARGUMENT,
    );
  });
});

describe("operator", () => {
  it("purges a cancelled tenant with a receipt, and rotates the master key", async () => {
    const c = await provision(tenants, tcp.adminToken);
    const op = bearer(tcp.adminToken);
    const cId = c.tenant?.id ?? "";
    const enc = await unaryCall(sec, sec.encrypt, { tenantId: cId, plaintext: Buffer.from("gone soon"), context: "x" }, op);
    const kept = await unaryCall(sec, sec.encrypt, { tenantId: a.tenant?.id ?? "", plaintext: Buffer.from("stays"), context: "x" }, op);
    expect((await failure(unaryCall(sec, sec.purgeTenant, { tenantId: cId, confirmSlug: c.tenant?.slug ?? "", reason: "" }, op))).code).toBe(status.FAILED_PRECONDITION);
    await unaryCall(tenants, tenants.cancelTenant, { id: cId, reason: "offboarding" }, op);
    expect((await failure(unaryCall(sec, sec.purgeTenant, { tenantId: cId, confirmSlug: "wrong", reason: "" }, op))).code).toBe(status.INVALID_ARGUMENT);
    const receipt = await unaryCall(sec, sec.purgeTenant, { tenantId: cId, confirmSlug: c.tenant?.slug ?? "", reason: "contract ended" }, op);
    expect(receipt).toMatchObject({ tenantId: cId, destroyedBy: "operator", keyEncryptionKeys: 1, dataKeyVersions: [1], reason: "contract ended" });
    expect((await failure(unaryCall(sec, sec.decrypt, { tenantId: cId, ciphertext: enc.ciphertext, context: "x" }, op))).tmCode).toBe("TM_ERR_KEY_DESTROYED");
    const log = await unaryCall(sec, sec.listAuditEvents, { tenantId: cId, pageSize: 100, pageToken: "", action: "tenant.crypto_shredded" }, op);
    expect(JSON.parse(log.events[0]?.detailJson ?? "{}")).toMatchObject({ receipt_id: receipt.receiptId, key_ids_sha256: receipt.keyIdsSha256 });

    const rotated = await unaryCall(sec, sec.rotateMasterKey, {}, op);
    expect(rotated.tenants).toBeGreaterThanOrEqual(2);
    expect(Buffer.from((await unaryCall(sec, sec.decrypt, { tenantId: a.tenant?.id ?? "", ciphertext: kept.ciphertext, context: "x" }, op)).plaintext).toString()).toBe("stays");
  });
});
