/**
 * Reading JSON body fields. The portal only shapes values (types and lengths); what a value may be is decided
 * by the RPC it is passed to, so the portal and the CLI can never disagree about a rule.
 */
import { invalidArgument, TenantMeshError } from "../../errors/index.js";
import type { RouteContext } from "./router.js";
import type { PortalSession } from "./sessions.js";

/** A string field, trimmed; absent is ""; longer than `max` is INVALID_ARGUMENT naming the field */
export function str(value: unknown, max: number, field = "(body)"): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw invalidArgument([{ field, description: "must be a string" }]);
  if (value.length > max) throw invalidArgument([{ field, description: `must be at most ${max} characters` }]);
  return value.trim();
}

/** A list of strings (e.g. CIDR blocks) */
export function strList(value: unknown, maxItems: number, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > maxItems) throw invalidArgument([{ field, description: `must be a list of at most ${maxItems} strings` }]);
  return value.map((v, i) => str(v, 100, `${field}[${i}]`)).filter((v) => v !== "");
}

export function bool(value: unknown): boolean {
  return value === true;
}

export function requireSession(ctx: RouteContext): PortalSession {
  if (ctx.session === undefined) throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "not signed in");
  return ctx.session;
}

/** The tenant id of a path: the RPC decides whether the caller may act on it, the portal only checks its form */
export function tenantParam(ctx: RouteContext): string {
  const id = ctx.params.tenantId ?? "";
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw invalidArgument([{ field: "tenant_id", description: "must be a UUID" }]);
  }
  return id;
}
