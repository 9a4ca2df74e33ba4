import type { Metadata } from "@grpc/grpc-js";
import type { IncomingMessage } from "node:http";
import type { Clock } from "../auth/clock.js";
import { isUuid } from "../db/index.js";
import { TenantMeshError } from "../errors/index.js";
import { identityHeaders, verifyIdentity, type ForwardedIdentity } from "../identity/index.js";

/**
 * The tenant of a KYB request comes only from the identity the proxy forwards and signs (src/identity): a
 * client-sent `x-tenant-id` without the proxy's signature, with a forged or a stale one is refused before any
 * work, with the same answer whatever the reason (the reason goes to the log, not to the caller).
 */
export interface IdentityGate {
  fromHttp(req: IncomingMessage): ForwardedIdentity;
  fromMetadata(metadata: Metadata): ForwardedIdentity;
}

export const UNAUTHENTICATED_MESSAGE = "tenant identity must come from the proxy";

export function createIdentityGate(secret: Buffer, clock: Clock, onRefused: (reason: string) => void = () => {}): IdentityGate {
  const check = (headers: Record<string, string | string[] | undefined>): ForwardedIdentity => {
    const result = verifyIdentity(secret, headers, clock.now());
    // A signed identity naming a non-UUID tenant can only come from a broken proxy; refuse it here, not in SQL.
    const reason = !result.ok ? result.reason : isUuid(result.identity.tenantId) ? undefined : "tenant id is not a UUID";
    if (reason !== undefined || !result.ok) {
      onRefused(reason ?? "invalid identity");
      throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE);
    }
    return { ...result.identity, tenantId: result.identity.tenantId.toLowerCase() };
  };
  const names = Object.values(identityHeaders);
  return {
    // headersDistinct keeps repeated headers apart (Node would join them with ", "), so a repeat is refused.
    fromHttp: (req) => check(Object.fromEntries(names.map((n) => [n, req.headersDistinct[n]]))),
    fromMetadata: (metadata) =>
      check(Object.fromEntries(names.map((n) => [n, metadata.get(n).filter((v): v is string => typeof v === "string")]))),
  };
}
