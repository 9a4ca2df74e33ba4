/**
 * tenantmesh.v1.UserService over the RpcKit chain: each method names its policy (who may call it at all) and
 * validates its request at the edge; the operations in service/authenticate/mfa/reset/session-service refine
 * who may do what to whom.
 */
import { z } from "zod";
import { principalTenant, type Permission, type Principal } from "../authz/index.js";
import { invalidArgument, TenantMeshError } from "../errors/index.js";
import { UserServiceService, type UserServiceServer } from "../gen/tenantmesh/v1/user.js";
import { parseRequest, type Policy, type RpcKit } from "../grpc/index.js";
import { authenticate } from "./authenticate.js";
import type { UsersDeps } from "./context.js";
import { confirmMfa, disableMfa, enrollMfa } from "./mfa.js";
import { requestPasswordReset, resetPassword } from "./reset.js";
import { createUser, deleteUser, getUser, listUsers, MAX_PAGE_SIZE, updatablePaths, updateUser, type UpdatablePath } from "./service.js";
import { logout, revokeTenantSessions } from "./session-service.js";
import type { SessionChecker } from "./sessions.js";
import type { UserPatch } from "./store.js";
import {
  emailSchema,
  languageSchema,
  optionalUuid,
  permissionsSchema,
  preferencesSchema,
  requiredUuid,
  roleSchema,
  tenantPermissionsSchema,
  timezoneSchema,
} from "./validation.js";

/** "" means "not given" for proto3 strings */
const optional = <T>(schema: z.ZodType<T, string>) => z.string().transform((v) => (v === "" ? undefined : v)).pipe(schema.optional());

/** A tenant policy on the request's tenant_id; empty means the caller's own tenant */
function tenantPolicy<Req>(permission: Permission, pick: (req: Req) => string | undefined): Policy<Req> {
  return { kind: "tenant", permission, tenant: (req: Req, p: Principal) => pick(req) || principalTenant(p) };
}

const createSchema = z.object({
  tenantId: optionalUuid,
  email: emailSchema,
  password: z.string().min(1, "is required"),
  role: z.string().transform((r) => (r === "" ? "user" : r)).pipe(roleSchema),
  permissions: permissionsSchema,
  tenantPermissions: tenantPermissionsSchema.optional().transform((v) => v ?? {}),
  timezone: optional(timezoneSchema),
  language: optional(languageSchema),
  preferences: preferencesSchema.optional(),
});

const getSchema = z.object({ tenantId: optionalUuid, id: requiredUuid });

const listSchema = z.object({
  tenantId: optionalUuid,
  pageSize: z.number().int().min(0, "must not be negative").max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`),
  pageToken: z.string(),
  role: optional(roleSchema),
  includeDeleted: z.boolean(),
});

const snake = (path: string): string => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const maskSchema = z
  .array(z.string())
  .optional()
  .transform((paths) => [...new Set((paths ?? []).map(snake))])
  .pipe(
    z
      .array(z.enum(updatablePaths, `must be one of ${updatablePaths.join(", ")}`))
      .min(1, "name at least one field to update"),
  );

const updateSchema = z.object({
  user: z.object(
    {
      tenantId: optionalUuid,
      id: requiredUuid,
      role: z.string(),
      permissions: z.array(z.string()),
      tenantPermissions: z.record(z.string(), z.unknown()).optional(),
      timezone: z.string(),
      language: z.string(),
      preferences: z.record(z.string(), z.unknown()).optional(),
    },
    "is required",
  ),
  updateMask: maskSchema,
});

/**
 * The masked fields of the request's user, each validated with the same rules as CreateUser. A masked but
 * empty timezone or language resets it to its default (UTC, en), as proto3 cannot tell "empty" from "unset".
 */
function patchOf(user: z.infer<typeof updateSchema>["user"], paths: readonly UpdatablePath[]): UserPatch {
  const pick = {
    role: () => ({ role: roleSchema.parse(user.role) }),
    permissions: () => ({ permissions: permissionsSchema.parse(user.permissions) }),
    tenant_permissions: () => ({ tenant_permissions: tenantPermissionsSchema.parse(user.tenantPermissions ?? {}) }),
    preferences: () => ({ preferences: preferencesSchema.parse(user.preferences ?? {}) }),
    timezone: () => ({ timezone: timezoneSchema.parse(user.timezone === "" ? "UTC" : user.timezone) }),
    language: () => ({ language: languageSchema.parse(user.language === "" ? "en" : user.language) }),
  } satisfies Record<UpdatablePath, () => UserPatch>;
  const patch: UserPatch = {};
  const violations: Array<{ field: string; description: string }> = [];
  for (const path of paths) {
    try {
      Object.assign(patch, pick[path]());
    } catch (err) {
      if (!(err instanceof z.ZodError)) throw err;
      for (const issue of err.issues) {
        violations.push({ field: ["user", path, ...issue.path.map(String)].join("."), description: issue.message });
      }
    }
  }
  if (violations.length > 0) throw invalidArgument(violations);
  return patch;
}

const mfaSchema = z.object({ tenantId: optionalUuid, userId: optionalUuid, code: z.string().max(10) });
const authenticateSchema = z.object({
  tenantSlug: z.string().min(1, "is required").max(100),
  email: z.string().min(1, "is required").max(255),
  password: z.string().min(1, "is required").max(1024),
  totpCode: z.string().max(10),
});
const resetRequestSchema = z.object({ tenantSlug: z.string().min(1, "is required").max(100), email: z.string().min(1, "is required").max(255) });
const resetSchema = resetRequestSchema.extend({ resetToken: z.string().min(1, "is required").max(256), newPassword: z.string().max(1024) });
const verifySchema = z.object({ sessionToken: z.string().min(1, "is required").max(4096) });
const revokeSchema = z.object({ tenantId: optionalUuid, userId: optionalUuid });

/** The UserService implementation, every method wrapped in the kit's interceptor chain */
export function userServiceImplementation(kit: RpcKit, deps: UsersDeps, sessions: SessionChecker): UserServiceServer {
  const now = (): Date => new Date(deps.clock.now());
  return {
    createUser: kit.unary("UserService/CreateUser", tenantPolicy("users:write", (r) => r.tenantId), (req, ctx) => createUser(ctx, parseRequest(createSchema, req), now())),
    getUser: kit.unary("UserService/GetUser", tenantPolicy("users:read", (r) => r.tenantId), (req, ctx) => getUser(ctx, parseRequest(getSchema, req).id)),
    listUsers: kit.unary("UserService/ListUsers", tenantPolicy("users:read", (r) => r.tenantId), (req, ctx) => listUsers(ctx, parseRequest(listSchema, req))),
    updateUser: kit.unary("UserService/UpdateUser", tenantPolicy("users:read", (r) => r.user?.tenantId), (req, ctx) => {
      const { user, updateMask } = parseRequest(updateSchema, req);
      return updateUser(ctx, user.id, updateMask, patchOf(user, updateMask));
    }),
    deleteUser: kit.unary("UserService/DeleteUser", tenantPolicy("users:write", (r) => r.tenantId), async (req, ctx) => {
      await deleteUser(ctx, parseRequest(getSchema, req).id, now());
      return {};
    }),
    authenticate: kit.unary("UserService/Authenticate", { kind: "public" }, (req, ctx) => authenticate(deps, ctx, parseRequest(authenticateSchema, req))),
    logout: kit.unary("UserService/Logout", { kind: "authenticated" }, async (_req, ctx) => {
      await logout(deps, ctx);
      return {};
    }),
    revokeSessions: kit.unary("UserService/RevokeSessions", tenantPolicy("sessions:revoke", (r) => r.tenantId), async (req, ctx) => ({
      revokedCount: await revokeTenantSessions(deps, ctx, parseRequest(revokeSchema, req).userId),
    })),
    enrollMfa: kit.unary("UserService/EnrollMfa", tenantPolicy("users:read", (r) => r.tenantId), (req, ctx) => enrollMfa(deps, ctx, parseRequest(mfaSchema, req).userId)),
    confirmMfa: kit.unary("UserService/ConfirmMfa", tenantPolicy("users:read", (r) => r.tenantId), (req, ctx) => {
      const { userId, code } = parseRequest(mfaSchema.extend({ code: z.string().min(1, "is required").max(10) }), req);
      return confirmMfa(deps, ctx, userId, code);
    }),
    disableMfa: kit.unary("UserService/DisableMfa", tenantPolicy("users:read", (r) => r.tenantId), (req, ctx) => {
      const { userId, code } = parseRequest(mfaSchema, req);
      return disableMfa(deps, ctx, userId, code);
    }),
    requestPasswordReset: kit.unary("UserService/RequestPasswordReset", { kind: "public" }, (req, ctx) =>
      requestPasswordReset(deps, ctx, parseRequest(resetRequestSchema, req)),
    ),
    verifySession: kit.unary("UserService/VerifySession", { kind: "scope", scope: "sessions:verify" }, async (req, ctx) => {
      const { sessionToken } = parseRequest(verifySchema, req);
      const checked = await sessions.check(sessionToken);
      if (checked === null) throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "invalid, expired or revoked session");
      const { principal: p, expiresAt } = checked;
      ctx.log.debug({ tenant_id: p.tenantId, session_id: p.sessionId }, "session verified for a proxy");
      return { tenantId: p.tenantId, userId: p.userId, role: p.role, sessionId: p.sessionId, expiresAt };
    }),
    resetPassword: kit.unary("UserService/ResetPassword", { kind: "public" }, async (req, ctx) => {
      await resetPassword(deps, ctx, parseRequest(resetSchema, req));
      return {};
    }),
  };
}

export { UserServiceService };
