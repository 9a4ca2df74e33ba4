import type { Clock } from "../auth/clock.js";
import { signServiceToken, verifyServiceToken } from "../auth/service-token.js";
import { isServiceScope, type ServiceScope } from "../authz/index.js";
import type { CredentialVerifier } from "../grpc/index.js";
import type { Secrets } from "../config/secrets.js";

const secretOf = (secrets: Pick<Secrets, "tokenSecret">): Buffer => Buffer.from(secrets.tokenSecret);

/**
 * Mints a service token for a proxy or backend. Service tokens are stateless: they are checked by signature,
 * so whoever holds the deployment's token secret (the data dir or TENANTMESH_TOKEN_SECRET) can mint them, and
 * rotating that secret revokes them all.
 */
export function issueServiceToken(
  secrets: Pick<Secrets, "tokenSecret">,
  name: string,
  scopes: readonly ServiceScope[],
  options: { clock?: Clock; ttlMs?: number } = {},
): string {
  const now = options.clock?.now() ?? Date.now();
  return signServiceToken(secretOf(secrets), {
    name,
    scopes: [...scopes],
    issuedAt: now,
    ...(options.ttlMs === undefined ? {} : { expiresAt: now + options.ttlMs }),
  });
}

/** The `tmsvc_` verifier: a valid signature names the service and its (known) scopes */
export function serviceTokenVerifier(secrets: Pick<Secrets, "tokenSecret">, clock: Clock): CredentialVerifier {
  const secret = secretOf(secrets);
  return {
    async verify(token) {
      const result = verifyServiceToken(secret, token, clock.now());
      if (!result.ok) return null;
      return { kind: "service", name: result.claims.name, scopes: new Set(result.claims.scopes.filter(isServiceScope)) };
    },
  };
}
