import type { Clock, TokenSecrets } from "../auth/index.js";
import { isTenantPrincipal } from "../authz/index.js";
import type { Database, Tx } from "../db/index.js";
import { invalidArgument, permissionDenied } from "../errors/index.js";
import type { RpcContext } from "../grpc/index.js";
import type { Logger } from "../log/index.js";
import type { FieldCipher } from "../security/fields.js";

/** What the users slice's operations need from the composition root */
export interface UsersDeps {
  db: Database;
  clock: Clock;
  /** Signs and checks `tms_…` session tokens (Buffer.from(secrets.tokenSecret)) */
  tokenSecrets: TokenSecrets;
  logger: Logger;
  /** Session token and session row lifetime; default 1 h */
  sessionTtlMs: number;
  /** Password-reset token lifetime; default 30 min */
  resetTtlMs: number;
  /** Seals users.mfa_secret with the tenant's own key (src/security) */
  fields: FieldCipher;
}

/** The part of an RPC's context an operation uses: who calls, for which tenant, and its RLS transaction */
export type Caller = Pick<RpcContext, "principal" | "tenantId" | "inTenant" | "log" | "peer" | "audit">;

/** The authorized tenant of a tenant-policy call; an operator must name one */
export function tenantOf(caller: Caller): string {
  if (caller.tenantId === undefined || caller.tenantId === "") {
    throw invalidArgument([{ field: "tenant_id", description: "is required" }]);
  }
  return caller.tenantId;
}

/** Runs `fn` in the caller's tenant's RLS transaction */
export const inCallerTenant = <T>(caller: Caller, fn: (trx: Tx) => Promise<T>): Promise<T> => {
  tenantOf(caller);
  return caller.inTenant(fn);
};

/**
 * On the public RPCs (Authenticate, password reset) a caller may still present a credential. A tenant
 * credential (user session, API key) is good for its own tenant only, even there: naming any other slug is
 * PERMISSION_DENIED, whether or not that slug exists, so the answer reveals nothing about other tenants.
 */
export function requireOwnTenantOnPublicCall(caller: Pick<Caller, "principal">, resolvedTenantId: string | undefined): void {
  const p = caller.principal;
  if (isTenantPrincipal(p) && resolvedTenantId !== p.tenantId) throw permissionDenied();
}

/**
 * Looks a tenant up by slug across tenants (asPlatform: the caller is not in any tenant yet). Cancelled
 * (soft-deleted) tenants are found too, so their users get TM_ERR_TENANT_INACTIVE after a correct password
 * rather than a misleading "invalid credentials"; callers check `status`.
 */
export async function findTenantBySlug(db: Database, slug: string): Promise<{ id: string; status: string } | undefined> {
  if (!/^[a-z0-9-]{1,100}$/.test(slug)) return undefined;
  const row: { id: string; status: string; deleted_at: Date | null } | undefined = await db.asPlatform((trx) =>
    trx("tenants").select("id", "status", "deleted_at").where({ slug }).first(),
  );
  if (row === undefined) return undefined;
  return { id: row.id, status: row.deleted_at === null ? row.status : "cancelled" };
}
