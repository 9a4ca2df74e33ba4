/**
 * A tenant's security state as the rules see it, read in one tenant transaction (RLS on): its policy, who its
 * admins and users are and whether they use MFA, how old its newest key is, whether its audit chain holds,
 * its API keys, and whether any sensitive column still holds legacy plaintext.
 */
import type { AuditLog, ChainVerification } from "../audit/index.js";
import { PASSWORD_MIN_LENGTH } from "../auth/index.js";
import type { Tx } from "../db/index.js";
import type { KeyInfo } from "../security/keyring.js";
import type { Keyring } from "../security/keyring.js";
import { readPolicy } from "../security/policy-store.js";
import { countPlaintextColumns } from "../security/sealed-columns.js";
import type { SecurityPolicy } from "../security/policy.js";

/** Admins and API keys unused for longer than this are dormant (PCI DSS 8.2.6 says 90 days) */
export const DORMANT_DAYS = 90;
const DAY_MS = 24 * 60 * 60_000;

export interface TenantState {
  tenantId: string;
  now: Date;
  policy: SecurityPolicy;
  admins: { total: number; withMfa: number; dormant: string[] };
  users: { total: number; withMfa: number };
  keys: KeyInfo & { latestAgeDays: number | undefined; keystore: string };
  audit: ChainVerification;
  apiKeys: { live: number; withoutExpiry: number; dormant: number };
  /** Sensitive columns still holding plaintext from before encryption */
  plaintextFields: number;
  passwordMinLength: number;
}

interface UserFacts {
  id: string;
  role: string;
  mfa_enabled: boolean | null;
  last_login: Date | null;
  created_at: Date;
}

export async function readTenantState(trx: Tx, tenantId: string, deps: { keyring: Keyring; audit: AuditLog; now: Date }): Promise<TenantState> {
  const { now } = deps;
  const policy = await readPolicy(trx, tenantId);
  const users = (await trx("users")
    .where({ tenant_id: tenantId })
    .whereNull("deleted_at")
    .select("id", "role", "mfa_enabled", "last_login", "created_at")) as UserFacts[];
  const admins = users.filter((u) => u.role === "admin");
  const dormantBefore = now.getTime() - DORMANT_DAYS * DAY_MS;
  const keyInfo = await deps.keyring.info(trx, tenantId);
  const latest = keyInfo.versions.find((v) => v.version === keyInfo.latestVersion);
  const apiKeys = (await trx("api_keys")
    .where({ tenant_id: tenantId })
    .whereNull("revoked_at")
    .where((q) => q.whereNull("expires_at").orWhere("expires_at", ">", now))
    .select("expires_at", "last_used_at", "created_at")) as Array<{ expires_at: Date | null; last_used_at: Date | null; created_at: Date }>;
  const plaintextFields = await countPlaintextColumns(trx, tenantId);
  return {
    tenantId,
    now,
    policy,
    admins: {
      total: admins.length,
      withMfa: admins.filter((u) => u.mfa_enabled === true).length,
      dormant: admins.filter((u) => (u.last_login ?? u.created_at).getTime() < dormantBefore).map((u) => u.id),
    },
    users: { total: users.length, withMfa: users.filter((u) => u.mfa_enabled === true).length },
    keys: {
      ...keyInfo,
      latestAgeDays: latest === undefined ? undefined : (now.getTime() - latest.createdAt.getTime()) / DAY_MS,
      keystore: deps.keyring.keystore.kind,
    },
    audit: await deps.audit.verify(trx, tenantId),
    apiKeys: {
      live: apiKeys.length,
      withoutExpiry: apiKeys.filter((k) => k.expires_at === null).length,
      dormant: apiKeys.filter((k) => (k.last_used_at ?? k.created_at).getTime() < dormantBefore).length,
    },
    plaintextFields,
    passwordMinLength: PASSWORD_MIN_LENGTH,
  };
}
