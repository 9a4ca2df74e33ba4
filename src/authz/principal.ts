import type { Permission, Role, ServiceScope } from "./roles.js";

/** Who is calling, once their credential has been checked */
export type Principal =
  | { kind: "anonymous" }
  /** A platform operator (the operator token): may act on any tenant */
  | { kind: "operator" }
  /** A service (proxy, backend) with narrow scopes and no tenant of its own */
  | { kind: "service"; name: string; scopes: ReadonlySet<ServiceScope> }
  /** A tenant's user, through a session token */
  | { kind: "user"; tenantId: string; userId: string; role: Role; sessionId: string; grants: ReadonlySet<Permission> }
  /** A tenant's API key */
  | { kind: "api_key"; tenantId: string; keyId: string; role: Role; grants: ReadonlySet<Permission> };

export type TenantPrincipal = Extract<Principal, { kind: "user" | "api_key" }>;

export const isTenantPrincipal = (p: Principal): p is TenantPrincipal => p.kind === "user" || p.kind === "api_key";

/** A short, log-safe name of the principal (never a secret) */
export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case "anonymous":
      return "anonymous";
    case "operator":
      return "operator";
    case "service":
      return `service:${p.name}`;
    case "user":
      return `user:${p.userId}`;
    case "api_key":
      return `api_key:${p.keyId}`;
  }
}
