import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../src/auth/index.js";
import type { Business, CreateBusinessRequest } from "../src/gen/tenantmesh/kyb/v1/business.js";
import { grpcFailure, insertKybTenant, signedMetadata, startTestKyb, type TestKyb } from "../src/kyb/testing.js";
import { fieldCipher, purgeTenant } from "../src/security/index.js";
import { memorySecurityRuntime } from "../src/security/testing.js";
import type { SecurityRuntime } from "../src/security/runtime.js";
import { openTestDatabase, type TestDatabase } from "./support/db.js";

/**
 * The KYB backend stores registration numbers, tax identifiers and beneficial owners sealed with the owning
 * tenant's key: the database holds ciphertext, the owner reads plaintext, a value moved to another row or
 * tenant does not open, and a purge makes them unreadable while the clear columns stay.
 */
let testDb: TestDatabase;
let rt: SecurityRuntime;
let kyb: TestKyb;

const details = {
  description: "Wholesale of coffee",
  tax_number: "DE123456789",
  vat_number: "DE999",
  ownership: { beneficial_owners: [{ name: "Jane Roe", ownership_pct: 60, country: "DE", pep: false }], ownership_layers: 1 },
};
const create = (tenant: string, req: Partial<CreateBusinessRequest>): Promise<Business> =>
  kyb.rpc.createBusiness({ name: "Roe Coffee GmbH", registrationNumber: "HRB 12345", country: "DE", details, ...req }, signedMetadata(kyb.secret, tenant));
const raw = (id: string) => testDb.db.asPlatform((trx) => trx("businesses").where({ id }).first());

beforeAll(async () => {
  testDb = await openTestDatabase();
  rt = memorySecurityRuntime(testDb.db, systemClock);
  kyb = await startTestKyb(testDb.db, { fields: fieldCipher(rt.keyring) });
});
afterAll(async () => {
  await kyb.close();
  await testDb.close();
});

describe("KYB sensitive fields", () => {
  it("are ciphertext at rest and plaintext for their tenant", async () => {
    const tenant = await insertKybTenant(testDb.db);
    const created = await create(tenant, {});
    expect(created).toMatchObject({ registrationNumber: "HRB 12345", details });
    const row = await raw(created.id);
    expect(row.registration_number).toMatch(/^tmenc:v1:/);
    expect(row.sealed_details).toMatch(/^tmenc:v1:/);
    expect(JSON.stringify(row)).not.toMatch(/HRB 12345|DE123456789|DE999|Jane Roe/);
    expect(row.details).toEqual({ description: "Wholesale of coffee", ownership: { ownership_layers: 1 } });
    expect(await kyb.rpc.getBusiness({ id: created.id }, signedMetadata(kyb.secret, tenant))).toEqual(created);
    // Risk assessment still sees the (decrypted) owners.
    const assessed = await kyb.rpc.assessRisk({ id: created.id }, signedMetadata(kyb.secret, tenant));
    expect(assessed.assessment?.factors.map((f) => f.factor)).toContain("ownership_undisclosed");
  });

  it("a ciphertext copied into another business does not open there", async () => {
    const tenant = await insertKybTenant(testDb.db);
    const one = await create(tenant, { registrationNumber: "ONE-1" });
    const two = await create(tenant, { registrationNumber: "TWO-2" });
    const sealed = (await raw(one.id)).registration_number;
    await testDb.db.asPlatform((trx) => trx("businesses").where({ id: two.id }).update({ registration_number: sealed }));
    const failed = await grpcFailure(kyb.rpc.getBusiness({ id: two.id }, signedMetadata(kyb.secret, tenant)));
    expect(failed.tmCode).toBe("TM_ERR_DECRYPTION_FAILED");
  });

  it("rows written before encryption (plaintext) still read, and a purge leaves the ciphertext unreadable", async () => {
    const tenant = await insertKybTenant(testDb.db);
    const legacy = await create(tenant, { registrationNumber: "", details: { description: "old" } });
    await testDb.db.asPlatform((trx) => trx("businesses").where({ id: legacy.id }).update({ registration_number: "LEGACY-1" }));
    expect((await kyb.rpc.getBusiness({ id: legacy.id }, signedMetadata(kyb.secret, tenant))).registrationNumber).toBe("LEGACY-1");

    const sealed = await create(tenant, {});
    await testDb.db.asPlatform((trx) => trx("tenants").where({ id: tenant }).update({ status: "cancelled", deleted_at: new Date() }));
    await purgeTenant({ db: testDb.db, keyring: rt.keyring, audit: rt.audit, clock: systemClock }, { tenantId: tenant, actor: "operator", reason: "test" });
    await expect(rt.keyring.tenant(tenant)).rejects.toMatchObject({ code: "TM_ERR_KEY_DESTROYED" });
    const row = await raw(sealed.id);
    expect(row.name).toBe("Roe Coffee GmbH");
    expect(row.registration_number).toMatch(/^tmenc:/);
  });
});
