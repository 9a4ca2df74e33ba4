import { createHash, timingSafeEqual } from "node:crypto";
import type { Principal } from "../authz/index.js";
import { TenantMeshError } from "../errors/index.js";

/** Checks one kind of bearer token; answers null when the token is not valid (never throws for a bad token) */
export interface CredentialVerifier {
  verify(token: string, call: { peer: string }): Promise<Principal | null>;
}

/**
 * Bearer tokens by prefix: `tm_` API keys, `tms_` user session tokens, `tmsvc_` service tokens; anything else
 * is compared with the operator token. Each kind has its own verifier, supplied by the slice that owns it.
 */
export interface Verifiers {
  apiKey?: CredentialVerifier;
  session?: CredentialVerifier;
  service?: CredentialVerifier;
}

export interface Authenticator {
  /** The principal for an `authorization` header value; anonymous when absent; UNAUTHENTICATED when invalid */
  authenticate(authorization: string | undefined, call: { peer: string }): Promise<Principal>;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

const unauthenticated = (message: string): TenantMeshError => new TenantMeshError("TM_ERR_UNAUTHENTICATED", message);

export function createAuthenticator(options: { operatorToken: string; verifiers: Verifiers }): Authenticator {
  const operatorDigest = digest(options.operatorToken);
  const { verifiers } = options;
  return {
    async authenticate(authorization, call) {
      if (authorization === undefined || authorization.trim() === "") return { kind: "anonymous" };
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1]) throw unauthenticated("malformed authorization header: expected 'Bearer <token>'");
      const token = match[1];
      const verifier = token.startsWith("tmsvc_")
        ? verifiers.service
        : token.startsWith("tms_")
          ? verifiers.session
          : token.startsWith("tm_")
            ? verifiers.apiKey
            : undefined;
      if (verifier) {
        const principal = await verifier.verify(token, call);
        if (principal) return principal;
        throw unauthenticated("invalid, expired or revoked credential");
      }
      // Hashing both sides makes the comparison constant-time whatever the token's length.
      if (timingSafeEqual(digest(token), operatorDigest)) return { kind: "operator" };
      throw unauthenticated("invalid, expired or revoked credential");
    },
  };
}
