import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/index.js";
import type { TenantMeshError } from "../src/errors/index.js";
import { createSecurityRuntime, FileKeyStore, KEYSTORE_FILE, masterKeyId, openFileKeyStore, purgeTenant, type SecurityRuntime } from "../src/security/index.js";
import { insertTestTenant } from "../src/users/testing.js";
import { openTestDatabase, type TestDatabase } from "./support/db.js";

/**
 * The keyring on a real database (PGlite, or PostgreSQL with DATABASE_URL) and the file keystore in a temp
 * data dir: tenant isolation of ciphertexts, rotation, retirement, rewrap, master-key rotation and
 * crypto-shredding, including a database dump restored after the purge.
 */
const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
let testDb: TestDatabase;
let dataDir: string;
let secrets: { masterKey: Buffer; masterKeySource: "file"; masterKeyFile: string };
let rt: SecurityRuntime;

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (err) {
    return (err as TenantMeshError).code;
  }
  return "succeeded";
};
const bytes = (s: string): Buffer => Buffer.from(s, "utf8");

beforeAll(async () => {
  testDb = await openTestDatabase();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-sec-"));
  const masterKey = randomBytes(32);
  const masterKeyFile = path.join(dataDir, "master-key");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(masterKeyFile, masterKey.toString("base64"), { mode: 0o600 });
  secrets = { masterKey, masterKeySource: "file", masterKeyFile };
  rt = createSecurityRuntime({ db: testDb.db, clock, dataDir, secrets });
});
afterAll(async () => {
  await testDb.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("envelope encryption", () => {
  it("A's ciphertext never decrypts as B's, nor under another context", async () => {
    const a = await insertTestTenant(testDb.db);
    const b = await insertTestTenant(testDb.db);
    const ct = await rt.keyring.encrypt(a.id, bytes("iban DE89 3704"), "invoices/1/iban");
    expect((await rt.keyring.decrypt(a.id, ct, "invoices/1/iban")).toString()).toBe("iban DE89 3704");
    // B has a key of the same version: the associated data (tenant id) is what refuses it.
    expect((await rt.keyring.tenant(b.id)).latestVersion).toBe(1);
    expect(await codeOf(rt.keyring.decrypt(b.id, ct, "invoices/1/iban"))).toBe("TM_ERR_DECRYPTION_FAILED");
    expect(await codeOf(rt.keyring.decrypt(a.id, ct, "invoices/2/iban"))).toBe("TM_ERR_DECRYPTION_FAILED");
    const tampered = Buffer.from(ct);
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 1;
    expect(await codeOf(rt.keyring.decrypt(a.id, tampered, "invoices/1/iban"))).toBe("TM_ERR_DECRYPTION_FAILED");
  });

  it("rotated keys still decrypt old data; new data uses the new version; retired versions are refused; rewrap moves data forward", async () => {
    const t = await insertTestTenant(testDb.db);
    const v1 = await rt.keyring.encrypt(t.id, bytes("one"), "ctx");
    expect(v1.readUInt32BE(1)).toBe(1);
    const rotated = await testDb.db.withTenant(t.id, (trx) => rt.keyring.rotate(trx, t.id));
    expect(rotated).toBe(2);
    const v2 = await rt.keyring.encrypt(t.id, bytes("two"), "ctx");
    expect(v2.readUInt32BE(1)).toBe(2);
    expect((await rt.keyring.decrypt(t.id, v1, "ctx")).toString()).toBe("one");

    const rewrapped = await rt.keyring.rewrap(t.id, v1, "ctx");
    expect(rewrapped.readUInt32BE(1)).toBe(2);
    expect((await rt.keyring.decrypt(t.id, rewrapped, "ctx")).toString()).toBe("one");

    await testDb.db.withTenant(t.id, (trx) => rt.keyring.setMinDecryptionVersion(trx, t.id, 2));
    expect(await codeOf(rt.keyring.decrypt(t.id, v1, "ctx"))).toBe("TM_ERR_KEY_RETIRED");
    expect((await rt.keyring.decrypt(t.id, rewrapped, "ctx")).toString()).toBe("one");
    expect(await codeOf(rt.keyring.rewrap(t.id, v1, "ctx"))).toBe("TM_ERR_KEY_RETIRED");
    expect(await codeOf(testDb.db.withTenant(t.id, (trx) => rt.keyring.setMinDecryptionVersion(trx, t.id, 3)))).toBe("TM_ERR_INVALID_ARGUMENT");
    // Retired, not destroyed: lowering the minimum again restores the old version.
    await testDb.db.withTenant(t.id, (trx) => rt.keyring.setMinDecryptionVersion(trx, t.id, 1));
    expect((await rt.keyring.decrypt(t.id, v1, "ctx")).toString()).toBe("one");
  });

  it("never shows key material in JSON or inspection, and keeps no plaintext key in the database or the keystore file", async () => {
    const t = await insertTestTenant(testDb.db);
    const keys = await rt.keyring.tenant(t.id);
    expect(JSON.parse(JSON.stringify(keys))).toEqual({ tenantId: t.id, latestVersion: 1, minDecryptionVersion: 1 });
    expect(inspect(keys)).toBe(`TenantKeys(${t.id}, v1..v1)`);
    const file = path.join(dataDir, KEYSTORE_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const sealed = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(Object.keys(sealed).sort()).toEqual(["format", "master_key_id", "sealed"]);
    expect(readFileSync(file, "utf8")).not.toContain(t.id);
    const rows = await testDb.db.asPlatform((trx) => trx("tenant_data_keys").where({ tenant_id: t.id }));
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].wrapped_key, "base64").length).toBe(12 + 32 + 16);
  });
});

describe("master-key rotation", () => {
  it("re-wraps every data key under fresh KEKs and re-seals the keystore; ciphertexts stay readable", async () => {
    const t = await insertTestTenant(testDb.db);
    const ct = await rt.keyring.encrypt(t.id, bytes("before"), "ctx");
    const before = await testDb.db.asPlatform((trx) => trx("tenant_data_keys").where({ tenant_id: t.id }).first());
    const oldId = masterKeyId(secrets.masterKey);
    const out = await rt.rotateMasterKey("operator");
    expect(out.masterKeyId).not.toBe(oldId);
    expect(out.tenants).toBeGreaterThanOrEqual(1);
    const after = await testDb.db.asPlatform((trx) => trx("tenant_data_keys").where({ tenant_id: t.id }).first());
    expect(after.kek_id).not.toBe(before.kek_id);
    expect(after.wrapped_key).not.toBe(before.wrapped_key);
    expect((await rt.keyring.decrypt(t.id, ct, "ctx")).toString()).toBe("before");

    // The old master key no longer opens the keystore; the new one (now in the master-key file) does.
    const file = path.join(dataDir, KEYSTORE_FILE);
    expect(() => FileKeyStore.open(file, secrets.masterKey)).toThrow(/another master key/);
    const newKey = Buffer.from(readFileSync(secrets.masterKeyFile, "utf8").trim(), "base64");
    expect(masterKeyId(newKey)).toBe(out.masterKeyId);
    expect(statSync(secrets.masterKeyFile).mode & 0o777).toBe(0o600);
    secrets = { ...secrets, masterKey: newKey };
    // A restarted process (fresh keystore and cache) reads the old ciphertext.
    rt = createSecurityRuntime({ db: testDb.db, clock, keystore: openFileKeyStore(dataDir, secrets) });
    expect((await rt.keyring.decrypt(t.id, ct, "ctx")).toString()).toBe("before");
  });
});

describe("crypto-shredding", () => {
  it("makes the tenant's data unreadable in seconds, even after restoring a dump taken before the purge", async () => {
    const t = await insertTestTenant(testDb.db);
    const ct = await rt.keyring.encrypt(t.id, bytes("secret"), "ctx");
    await testDb.db.withTenant(t.id, (trx) => rt.keyring.rotate(trx, t.id));
    const ct2 = await rt.keyring.encrypt(t.id, bytes("secret 2"), "ctx");
    // The "backup": every key row of the tenant as it is now.
    const dump = await testDb.db.asPlatform(async (trx) => ({
      keyring: await trx("tenant_keyrings").where({ tenant_id: t.id }).first(),
      dataKeys: await trx("tenant_data_keys").where({ tenant_id: t.id }),
    }));
    await testDb.db.asPlatform((trx) => trx("tenants").where({ id: t.id }).update({ status: "cancelled", deleted_at: new Date(clock.now()) }));

    const started = performance.now();
    const receipt = await purgeTenant({ db: testDb.db, keyring: rt.keyring, audit: rt.audit, clock }, { tenantId: t.id, actor: "operator", reason: "offboarding" });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(receipt).toMatchObject({ tenantId: t.id, destroyedBy: "operator", keyEncryptionKeys: 1, dataKeyVersions: [1, 2] });
    expect(receipt.keyIdsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await codeOf(rt.keyring.decrypt(t.id, ct, "ctx"))).toBe("TM_ERR_KEY_DESTROYED");

    // Restore the dump over the purged rows: the wrapped keys are back, the KEK is not.
    await testDb.db.asPlatform(async (trx) => {
      await trx("tenant_keyrings").where({ tenant_id: t.id }).delete();
      await trx("tenant_keyrings").insert(dump.keyring);
      await trx("tenant_data_keys").insert(dump.dataKeys);
    });
    rt.keyring.invalidate(t.id);
    expect(await codeOf(rt.keyring.decrypt(t.id, ct, "ctx"))).toBe("TM_ERR_KEY_DESTROYED");
    expect(await codeOf(rt.keyring.decrypt(t.id, ct2, "ctx"))).toBe("TM_ERR_KEY_DESTROYED");
    // A fresh process with the same keystore file cannot either, and no new key is ever made for the tenant.
    const fresh = createSecurityRuntime({ db: testDb.db, clock, keystore: openFileKeyStore(dataDir, secrets) });
    expect(await codeOf(fresh.keyring.decrypt(t.id, ct, "ctx"))).toBe("TM_ERR_KEY_DESTROYED");
    expect(await codeOf(fresh.keyring.keystore.currentKek(t.id))).toBe("TM_ERR_KEY_DESTROYED");

    const events = await testDb.db.withTenant(t.id, (trx) => rt.audit.list(trx, t.id, { afterSeq: 0, limit: 100 }));
    const shred = events.find((e) => e.action === "tenant.crypto_shredded");
    expect(shred?.detail).toMatchObject({ receipt_id: receipt.receiptId, key_ids_sha256: receipt.keyIdsSha256, data_key_versions: [1, 2], reason: "offboarding" });
    expect(shred?.seq).toBe(receipt.auditSeq);
  });

  it("the retention job purges a cancelled tenant once its data_retention_days have passed, not before", async () => {
    const { purgeExpiredTenants } = await import("../src/security/index.js");
    const { silentLogger } = await import("../src/log/index.js");
    const t = await insertTestTenant(testDb.db);
    const ct = await rt.keyring.encrypt(t.id, bytes("kept for 30 days"), "ctx");
    await testDb.db.asPlatform((trx) =>
      trx("tenants").where({ id: t.id }).update({ status: "cancelled", deleted_at: new Date(clock.now()), data_retention_days: 30 }),
    );
    const deps = { db: testDb.db, runtime: rt, clock, log: silentLogger };
    clock.advance(29 * 86_400_000);
    expect((await purgeExpiredTenants(deps)).map((r) => r.tenantId)).not.toContain(t.id);
    rt.keyring.invalidate(t.id);
    expect((await rt.keyring.decrypt(t.id, ct, "ctx")).toString()).toBe("kept for 30 days");
    clock.advance(2 * 86_400_000);
    const receipts = await purgeExpiredTenants(deps);
    expect(receipts.find((r) => r.tenantId === t.id)).toMatchObject({ destroyedBy: "system:retention" });
    expect(await codeOf(rt.keyring.decrypt(t.id, ct, "ctx"))).toBe("TM_ERR_KEY_DESTROYED");
  });
});

describe("automatic rotation", () => {
  it("rotates a key older than the policy's key_rotation_days, and only then", async () => {
    const { rotateDueKeys } = await import("../src/security/index.js");
    const { silentLogger } = await import("../src/log/index.js");
    const t = await insertTestTenant(testDb.db); // basic plan: 180 days by default
    await testDb.db.asPlatform((trx) => trx("tenants").where({ id: t.id }).update({ security_policy: JSON.stringify({ key_rotation_days: 10 }) }));
    await rt.keyring.tenant(t.id);
    const deps = { db: testDb.db, runtime: rt, clock, log: silentLogger };
    clock.advance(9 * 86_400_000);
    expect(await rotateDueKeys(deps)).not.toContain(t.id);
    clock.advance(2 * 86_400_000);
    expect(await rotateDueKeys(deps)).toContain(t.id);
    const info = await testDb.db.withTenant(t.id, (trx) => rt.keyring.info(trx, t.id));
    expect(info.latestVersion).toBe(2);
    const events = await testDb.db.withTenant(t.id, (trx) => rt.audit.list(trx, t.id, { afterSeq: 0, limit: 100, action: "key.rotated" }));
    expect(events[0]).toMatchObject({ actor: "system:key-rotation", detail: { trigger: "policy", key_rotation_days: 10 } });
  });
});
