import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/index.js";
import type { UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import {
  bearer,
  failure,
  insertTestTenant,
  insertTestUser,
  newUserRequest,
  rpc,
  signedInUser,
  userClient,
  type TestTenant,
} from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
let tcp: TestControlPlane;
let client: UserServiceClient;
let tenant: TestTenant;
let admin: string;
let manager: string;
let viewer: string;

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  client = userClient(tcp.address);
  tenant = await insertTestTenant(tcp.cp.db, { maxUsers: 100 });
  admin = (await signedInUser(tcp.cp.db, client, tenant, { role: "admin" })).token;
  manager = (await signedInUser(tcp.cp.db, client, tenant, { role: "manager" })).token;
  viewer = (await signedInUser(tcp.cp.db, client, tenant, { role: "viewer" })).token;
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

const create = (token: string, fields: Parameters<typeof newUserRequest>[0] = {}) => rpc(client, client.createUser, newUserRequest(fields), bearer(token));

describe("CreateUser", () => {
  it("creates a user with every field, returning no secret", async () => {
    const u = await create(admin, {
      email: "Carol@Example.test",
      role: "manager",
      permissions: ["billing:write"],
      tenantPermissions: { "audit:read": false },
      timezone: "Europe/Berlin",
      language: "de-CH",
      preferences: { theme: "dark", digest: { weekly: true } },
    });
    expect(u).toMatchObject({ tenantId: tenant.id, email: "carol@example.test", role: "manager", permissions: ["billing:write"], timezone: "Europe/Berlin", language: "de-CH" });
    expect(u.tenantPermissions).toEqual({ "audit:read": false });
    expect(u.preferences).toEqual({ theme: "dark", digest: { weekly: true } });
    expect(u.mfaEnabled).toBe(false);
    expect(JSON.stringify(u)).not.toMatch(/scrypt|password|mfa_secret/);
  });

  it("defaults role user, timezone UTC, language en", async () => {
    expect(await create(admin, { role: "" })).toMatchObject({ role: "user", timezone: "UTC", language: "en" });
  });

  it("refuses a duplicate email (any case) as ALREADY_EXISTS", async () => {
    await create(admin, { email: "dup@example.test" });
    expect(await failure(create(admin, { email: "DUP@example.test" }))).toMatchObject({ code: status.ALREADY_EXISTS, tmCode: "TM_ERR_ALREADY_EXISTS" });
  });

  it("refuses invalid fields as INVALID_ARGUMENT naming them", async () => {
    const cases: Array<[Parameters<typeof newUserRequest>[0], string]> = [
      [{ password: "short" }, "password"],
      [{ password: "aaaaaaaaaaaaaaaa" }, "password"],
      [{ email: "not-an-email" }, "email"],
      [{ role: "owner" }, "role"],
      [{ permissions: ["users:read", "root:everything"] }, "permissions.1"],
      [{ tenantPermissions: { "nope:x": true } }, "tenant_permissions"],
      [{ tenantPermissions: { "users:read": "yes" } }, "tenant_permissions.users:read"],
      [{ timezone: "Mars/Olympus" }, "timezone"],
      [{ language: "english please" }, "language"],
      [{ tenantId: "not-a-uuid" }, "tenant_id"],
    ];
    for (const [fields, field] of cases) {
      const f = await failure(create(tcp.adminToken, { tenantId: tenant.id, ...fields }));
      expect(f.code, field).toBe(status.INVALID_ARGUMENT);
      expect(f.details, field).toContain(field);
    }
  });

  it("lets a manager create users and viewers, but not managers or admins", async () => {
    await expect(create(manager, { role: "user" })).resolves.toBeDefined();
    await expect(create(manager, { role: "viewer" })).resolves.toBeDefined();
    for (const role of ["manager", "admin"]) expect((await failure(create(manager, { role }))).code, role).toBe(status.PERMISSION_DENIED);
    await expect(create(admin, { role: "admin" })).resolves.toMatchObject({ role: "admin" });
  });

  it("refuses to grant permissions the caller lacks", async () => {
    const viaList = await failure(create(manager, { permissions: ["billing:write"] }));
    expect(viaList).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(viaList.details).toContain("billing:write");
    expect((await failure(create(manager, { tenantPermissions: { "sessions:revoke": true } }))).code).toBe(status.PERMISSION_DENIED);
    // Granting what it holds, or switching a permission off, is fine.
    await expect(create(manager, { permissions: ["keys:write"], tenantPermissions: { "metrics:read": false } })).resolves.toBeDefined();
  });

  it("refuses a viewer (no users:write) and an anonymous caller", async () => {
    expect(await failure(create(viewer))).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await failure(rpc(client, client.createUser, newUserRequest({ tenantId: tenant.id })))).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("needs tenant_id from an operator, and answers NOT_FOUND for an unknown tenant", async () => {
    expect((await failure(create(tcp.adminToken))).code).toBe(status.INVALID_ARGUMENT);
    const f = await failure(create(tcp.adminToken, { tenantId: "00000000-0000-4000-8000-000000000000" }));
    expect(f.code).toBe(status.NOT_FOUND);
  });

  it("enforces max_users with RESOURCE_EXHAUSTED naming the quota, limit and use", async () => {
    const t = await insertTestTenant(tcp.cp.db, { maxUsers: 2 });
    await insertTestUser(tcp.cp.db, t.id);
    await create(tcp.adminToken, { tenantId: t.id });
    const f = await failure(create(tcp.adminToken, { tenantId: t.id }));
    expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, tmCode: "TM_ERR_QUOTA_EXCEEDED", details: "quota max_users exhausted: limit 2, used 2" });
  });

  it("never exceeds max_users under parallel CreateUser calls", async () => {
    const t = await insertTestTenant(tcp.cp.db, { maxUsers: 5 });
    await insertTestUser(tcp.cp.db, t.id);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => create(tcp.adminToken, { tenantId: t.id })));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code);
    expect(ok).toHaveLength(4);
    expect(refused).toEqual(Array(6).fill(status.RESOURCE_EXHAUSTED));
    const live = await tcp.cp.db.withTenant(t.id, (trx) => trx("users").whereNull("deleted_at").count({ n: "*" }));
    expect(Number(live[0]?.n)).toBe(5);
  });
});

describe("GetUser and ListUsers", () => {
  it("GetUser returns the user; unknown id is NOT_FOUND, a malformed one INVALID_ARGUMENT", async () => {
    const u = await create(admin);
    await expect(rpc(client, client.getUser, { tenantId: "", id: u.id }, bearer(viewer))).resolves.toMatchObject({ id: u.id, email: u.email });
    const missing = await failure(rpc(client, client.getUser, { tenantId: "", id: "00000000-0000-4000-8000-000000000000" }, bearer(viewer)));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect((await failure(rpc(client, client.getUser, { tenantId: "", id: "x" }, bearer(viewer)))).code).toBe(status.INVALID_ARGUMENT);
  });

  it("ListUsers pages through every user once, in email order, filtered by role and deletion", async () => {
    const t = await insertTestTenant(tcp.cp.db);
    for (let i = 0; i < 7; i++) await insertTestUser(tcp.cp.db, t.id, { email: `p${i}@example.test`, role: i % 2 === 0 ? "viewer" : "user" });
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await rpc(client, client.listUsers, { tenantId: t.id, pageSize: 3, pageToken, role: "", includeDeleted: false }, bearer(tcp.adminToken));
      seen.push(...res.users.map((u) => u.email));
      pageToken = res.nextPageToken;
      pages++;
    } while (pageToken !== "");
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `p${i}@example.test`));

    const viewers = await rpc(client, client.listUsers, { tenantId: t.id, pageSize: 0, pageToken: "", role: "viewer", includeDeleted: false }, bearer(tcp.adminToken));
    expect(viewers.users.map((u) => u.email)).toEqual(["p0@example.test", "p2@example.test", "p4@example.test", "p6@example.test"]);

    await tcp.cp.db.withTenant(t.id, (trx) => trx("users").where({ email: "p1@example.test" }).update({ deleted_at: new Date() }));
    const live = await rpc(client, client.listUsers, { tenantId: t.id, pageSize: 0, pageToken: "", role: "", includeDeleted: false }, bearer(tcp.adminToken));
    expect(live.users).toHaveLength(6);
    const all = await rpc(client, client.listUsers, { tenantId: t.id, pageSize: 0, pageToken: "", role: "", includeDeleted: true }, bearer(tcp.adminToken));
    expect(all.users.find((u) => u.email === "p1@example.test")?.deletedAt).toBeInstanceOf(Date);
  });

  it("refuses a page token used with other filters, a forged token and an oversized page", async () => {
    const first = await rpc(client, client.listUsers, { tenantId: "", pageSize: 1, pageToken: "", role: "", includeDeleted: false }, bearer(admin));
    expect(first.nextPageToken).not.toBe("");
    const other = await failure(rpc(client, client.listUsers, { tenantId: "", pageSize: 1, pageToken: first.nextPageToken, role: "viewer", includeDeleted: false }, bearer(admin)));
    expect(other).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(other.details).toContain("page_token");
    const forged = await failure(rpc(client, client.listUsers, { tenantId: "", pageSize: 1, pageToken: "abc!", role: "", includeDeleted: false }, bearer(admin)));
    expect(forged.code).toBe(status.INVALID_ARGUMENT);
    const big = await failure(rpc(client, client.listUsers, { tenantId: "", pageSize: 501, pageToken: "", role: "", includeDeleted: false }, bearer(admin)));
    expect(big.details).toContain("page_size");
  });
});
