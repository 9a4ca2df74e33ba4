/**
 * Test fixtures of the users slice (imported by test/users*.test.ts only, never by production code): tenants
 * inserted straight into `tenants` until the tenants slice's ProvisionTenant is available to tests, users
 * inserted through the store, a UserService client, and a way to read a failed call's status and code.
 */
import { randomBytes } from "node:crypto";
import { credentials, Metadata, type CallOptions, type ServiceError } from "@grpc/grpc-js";
import { hashPassword } from "../auth/index.js";
import type { Role } from "../authz/index.js";
import type { Database } from "../db/index.js";
import { errorCodeOf } from "../grpc/index.js";
import { UserServiceClient, type CreateUserRequest } from "../gen/tenantmesh/v1/user.js";
import { insertUser, type UserRow } from "./store.js";

/** A password that passes the policy */
export const GOOD_PASSWORD = "correct-Horse-battery-9";

export interface TestTenant {
  id: string;
  slug: string;
}

/** Inserts an active tenant with the given user and session limits (plan columns set as for `basic`) */
export async function insertTestTenant(
  db: Database,
  options: { slug?: string; status?: string; maxUsers?: number | null; concurrentUsers?: number } = {},
): Promise<TestTenant> {
  const slug = options.slug ?? `t-${randomBytes(5).toString("hex")}`;
  const [row] = await db.asPlatform((trx) =>
    trx("tenants")
      .insert({
        name: `Tenant ${slug}`,
        slug,
        plan_type: "basic",
        status: options.status ?? "active",
        max_users: options.maxUsers === undefined ? 25 : options.maxUsers,
        concurrent_users: options.concurrentUsers ?? 100,
        api_rate_limit: 600,
        performance_tier: "standard",
        priority_level: 5,
      })
      .returning(["id", "slug"]),
  );
  if (row === undefined) throw new Error("tenant insert returned nothing");
  return row as TestTenant;
}

/** Sets a tenant's status directly (suspension and reactivation belong to the tenants slice) */
export async function setTenantStatus(db: Database, tenantId: string, status: string): Promise<void> {
  await db.asPlatform((trx) => trx("tenants").where({ id: tenantId }).update({ status }));
}

/** Inserts a user with GOOD_PASSWORD (or the given one) */
export async function insertTestUser(
  db: Database,
  tenantId: string,
  options: { email?: string; role?: Role; password?: string; permissions?: string[] } = {},
): Promise<UserRow> {
  const passwordHash = await hashPassword(options.password ?? GOOD_PASSWORD);
  const email = options.email ?? `u-${randomBytes(4).toString("hex")}@example.test`;
  return db.withTenant(tenantId, (trx) =>
    insertUser(trx, { tenantId, email, passwordHash, role: options.role ?? "user", permissions: options.permissions ?? [] }),
  );
}

export const userClient = (address: string): UserServiceClient => new UserServiceClient(address, credentials.createInsecure());

export const bearer = (token: string): Metadata => {
  const md = new Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
};

/**
 * Promise form of a ts-proto grpc-js unary method, bound to its client. Typed against the method's last
 * overload (request, metadata, options, callback), the one TypeScript infers from.
 */
export function rpc<Req, Res>(
  client: UserServiceClient,
  method: (req: Req, md: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** How a call failed: gRPC status, catalogue code and message; throws when it succeeded */
export async function failure(promise: Promise<unknown>): Promise<{ code: number; tmCode: string | undefined; details: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, tmCode: errorCodeOf(err), details: e.details };
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** A signed-in user of `tenantId` with `role`: its row and session token */
export async function signedInUser(
  db: Database,
  client: UserServiceClient,
  tenant: TestTenant,
  options: { role?: Role; email?: string; permissions?: string[] } = {},
): Promise<{ user: UserRow; token: string }> {
  const user = await insertTestUser(db, tenant.id, options);
  const res = await rpc(client, client.authenticate, { tenantSlug: tenant.slug, email: user.email, password: GOOD_PASSWORD, totpCode: "" });
  return { user, token: res.sessionToken };
}

/** A CreateUser request with defaults for everything not given */
export const newUserRequest = (fields: Partial<CreateUserRequest> = {}): CreateUserRequest => ({
  tenantId: "",
  email: `n-${randomBytes(4).toString("hex")}@example.test`,
  password: GOOD_PASSWORD,
  role: "user",
  permissions: [],
  tenantPermissions: undefined,
  timezone: "",
  language: "",
  preferences: undefined,
  ...fields,
});
