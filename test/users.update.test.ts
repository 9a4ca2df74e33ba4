import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/index.js";
import type { User, UserServiceClient } from "../src/gen/tenantmesh/v1/user.js";
import { toUserMessage } from "../src/users/index.js";
import { bearer, failure, GOOD_PASSWORD, insertTestTenant, rpc, signedInUser, userClient, type TestTenant } from "../src/users/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";

const clock = new ManualClock(Date.parse("2026-11-29T12:00:00Z"));
let tcp: TestControlPlane;
let client: UserServiceClient;

beforeAll(async () => {
  tcp = await startTestControlPlane({ clock });
  client = userClient(tcp.address);
});
afterAll(async () => {
  client.close();
  await tcp.close();
});

/** A fresh tenant with one signed-in user per role */
async function team(): Promise<{ tenant: TestTenant } & Record<"admin" | "manager" | "user" | "viewer", { user: User; token: string }>> {
  const tenant = await insertTestTenant(tcp.cp.db);
  const member = async (role: "admin" | "manager" | "user" | "viewer") => {
    const s = await signedInUser(tcp.cp.db, client, tenant, { role });
    return { user: toUserMessage(s.user), token: s.token };
  };
  return { tenant, admin: await member("admin"), manager: await member("manager"), user: await member("user"), viewer: await member("viewer") };
}

const update = (token: string, user: User, mask: string[], fields: Partial<User>) =>
  rpc(client, client.updateUser, { user: { ...user, ...fields }, updateMask: mask }, bearer(token));
const remove = (token: string, user: User) => rpc(client, client.deleteUser, { tenantId: user.tenantId, id: user.id }, bearer(token));

describe("UpdateUser", () => {
  it("applies only the masked fields", async () => {
    const t = await team();
    const res = await update(t.admin.token, t.user.user, ["role", "permissions", "tenant_permissions", "preferences", "timezone", "language"], {
      role: "manager",
      permissions: ["billing:write"],
      tenantPermissions: { "audit:read": false },
      preferences: { theme: "light" },
      timezone: "America/New_York",
      language: "pt-BR",
    });
    expect(res).toMatchObject({ role: "manager", permissions: ["billing:write"], timezone: "America/New_York", language: "pt-BR" });
    expect(res.preferences).toEqual({ theme: "light" });
    const onlyTz = await update(t.admin.token, res, ["timezone"], { timezone: "Asia/Tokyo", role: "viewer", language: "fr" });
    expect(onlyTz).toMatchObject({ timezone: "Asia/Tokyo", role: "manager", language: "pt-BR" });
  });

  it("accepts camelCase mask paths as well", async () => {
    const t = await team();
    const res = await update(t.admin.token, t.user.user, ["tenantPermissions"], { tenantPermissions: { "keys:read": false } });
    expect(res.tenantPermissions).toEqual({ "keys:read": false });
  });

  it("refuses an empty mask, an unknown path and invalid values as INVALID_ARGUMENT", async () => {
    const t = await team();
    for (const [mask, fields, field] of [
      [[], {}, "update_mask"],
      [["email"], {}, "update_mask"],
      [["timezone"], { timezone: "Nowhere/Land" }, "user.timezone"],
      [["language"], { language: "x" }, "user.language"],
      [["role"], { role: "root" }, "user.role"],
      [["permissions"], { permissions: ["made:up"] }, "user.permissions"],
    ] as Array<[string[], Partial<User>, string]>) {
      const f = await failure(update(t.admin.token, t.user.user, mask, fields));
      expect(f.code, field).toBe(status.INVALID_ARGUMENT);
      expect(f.details, field).toContain(field);
    }
  });

  it("lets a viewer change its own preferences, timezone and language, but nothing else and nobody else", async () => {
    const t = await team();
    await expect(update(t.viewer.token, t.viewer.user, ["timezone", "preferences"], { timezone: "Europe/Paris", preferences: { a: 1 } })).resolves.toMatchObject({ timezone: "Europe/Paris" });
    expect((await failure(update(t.viewer.token, t.viewer.user, ["role"], { role: "admin" }))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(update(t.viewer.token, t.user.user, ["timezone"], { timezone: "Europe/Paris" }))).code).toBe(status.PERMISSION_DENIED);
  });

  it("lets a manager move users between user and viewer only", async () => {
    const t = await team();
    await expect(update(t.manager.token, t.user.user, ["role"], { role: "viewer" })).resolves.toMatchObject({ role: "viewer" });
    expect((await failure(update(t.manager.token, t.user.user, ["role"], { role: "manager" }))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(update(t.manager.token, t.admin.user, ["role"], { role: "user" }))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(update(t.manager.token, t.admin.user, ["timezone"], { timezone: "UTC" }))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(update(t.manager.token, t.user.user, ["permissions"], { permissions: ["sessions:revoke"] }))).code).toBe(status.PERMISSION_DENIED);
  });

  it("never demotes the tenant's last active admin, and does once there is another", async () => {
    const t = await team();
    const f = await failure(update(t.admin.token, t.admin.user, ["role"], { role: "manager" }));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION, tmCode: "TM_ERR_FAILED_PRECONDITION" });
    const second = await update(t.admin.token, t.manager.user, ["role"], { role: "admin" });
    await expect(update(t.admin.token, t.admin.user, ["role"], { role: "manager" })).resolves.toMatchObject({ role: "manager" });
    // The demotion applies at once: the former admin can no longer promote anyone.
    expect((await failure(update(t.admin.token, t.user.user, ["role"], { role: "admin" }))).code).toBe(status.PERMISSION_DENIED);
    expect(second.role).toBe("admin");
  });

  it("answers NOT_FOUND for an unknown or deleted user", async () => {
    const t = await team();
    const ghost = { ...t.user.user, id: "00000000-0000-4000-8000-000000000000" };
    expect((await failure(update(t.admin.token, ghost, ["timezone"], {}))).code).toBe(status.NOT_FOUND);
    await remove(t.admin.token, t.user.user);
    expect((await failure(update(t.admin.token, t.user.user, ["timezone"], {}))).code).toBe(status.NOT_FOUND);
  });
});

describe("DeleteUser", () => {
  it("soft-deletes: the user is kept with deleted_at, its sessions end at once, it can no longer sign in", async () => {
    const t = await team();
    await remove(t.admin.token, t.user.user);
    const got = await rpc(client, client.getUser, { tenantId: "", id: t.user.user.id }, bearer(t.admin.token));
    expect(got.deletedAt?.getTime()).toBe(clock.now());
    const call = await failure(rpc(client, client.getUser, { tenantId: "", id: t.user.user.id }, bearer(t.user.token)));
    expect(call.code).toBe(status.UNAUTHENTICATED);
    const login = await failure(rpc(client, client.authenticate, { tenantSlug: t.tenant.slug, email: t.user.user.email, password: GOOD_PASSWORD, totpCode: "" }));
    expect(login).toMatchObject({ code: status.UNAUTHENTICATED, details: "invalid credentials" });
    expect((await failure(remove(t.admin.token, t.user.user))).code).toBe(status.NOT_FOUND);
  });

  it("refuses the last admin, a manager deleting an admin, and a viewer deleting anyone", async () => {
    const t = await team();
    expect((await failure(remove(t.admin.token, t.admin.user))).code).toBe(status.FAILED_PRECONDITION);
    expect((await failure(remove(t.manager.token, t.admin.user))).code).toBe(status.PERMISSION_DENIED);
    expect((await failure(remove(t.viewer.token, t.user.user))).code).toBe(status.PERMISSION_DENIED);
    await expect(remove(t.manager.token, t.viewer.user)).resolves.toEqual({});
  });
});
