import type { BlockList } from "node:net";

/** One API key as the proxy checks it: never the secret, only its keyed hash */
export interface ApiKeyEntry {
  readonly keyId: string;
  /** HMAC-SHA-256 (hex) of the secret under the deployment's API key pepper (src/auth/api-key.ts) */
  readonly secretHash: string;
  readonly role: string;
  /** Epoch ms, or undefined for a key that does not expire */
  readonly expiresAt: number | undefined;
}

export type TenantStatus = "provisioning" | "active" | "suspended" | "cancelled";

/** Everything the data plane knows about one tenant, from the WatchTenants feed (immutable; replaced on change) */
export interface TenantEntry {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly planType: string;
  readonly performanceTier: string;
  /** 1 (lowest) – 10 (highest) */
  readonly priority: number;
  /** Requests per minute, and the bucket's burst above it */
  readonly apiRateLimit: number;
  readonly burst: number;
  readonly maxConcurrentRequests: number;
  /** Upstream timeout for this tenant's requests */
  readonly maxResponseTimeMs: number;
  readonly maxThroughputRps: number;
  readonly scale: { readonly current: number; readonly min: number; readonly max: number };
  readonly enabledModules: ReadonlySet<string>;
  /** CIDR blocks as configured; empty means any address */
  readonly networkRestrictions: readonly string[];
  /** `networkRestrictions` compiled; undefined when unrestricted */
  readonly allowedNetworks: BlockList | undefined;
  /** Sessions issued before this epoch ms are revoked tenant-wide */
  readonly sessionsValidAfter: number | undefined;
}

export interface DirectoryState {
  /** Where the current entries came from */
  readonly source: "feed" | "last-known-good" | "empty";
  /** True while the feed is connected and has delivered its snapshot */
  readonly synced: boolean;
  /** The last applied feed version ("0" when none) */
  readonly version: string;
  /** Epoch ms of the last snapshot or change applied (undefined when never) */
  readonly lastUpdateAt: number | undefined;
}

/**
 * The proxy's view of tenants, fed by the control plane's WatchTenants stream (proxy/directory/watch.ts) or held
 * in memory (proxy/directory/static.ts, for tests and static deployments). Lookups are synchronous and O(1): they
 * run on every request.
 */
export interface TenantDirectory {
  tenant(id: string): TenantEntry | undefined;
  /** The tenant owning an API key id, with the key's digest */
  apiKey(keyId: string): { readonly tenant: TenantEntry; readonly key: ApiKeyEntry } | undefined;
  tenants(): Iterable<TenantEntry>;
  /**
   * The live keys of one tenant (for the admin API's listing; the hot path uses `apiKey`). Optional so that
   * directories written before it stay valid; callers treat its absence as "not known".
   */
  apiKeysOf?(tenantId: string): readonly ApiKeyEntry[];
  state(): DirectoryState;
  /** Called after each applied snapshot or change with the tenant ids it touched; returns an unsubscribe */
  onChange(listener: (tenantIds: readonly string[]) => void): () => void;
}

/** A verified user session, as the proxy needs it */
export interface SessionPrincipal {
  readonly tenantId: string;
  readonly userId: string;
  readonly role: string;
  readonly sessionId: string;
}

/**
 * Checks user session tokens (`tms_…`) against the control plane (UserService.VerifySession), with a short
 * cache so the hot path rarely waits on it. Null for an invalid, expired or revoked token.
 */
export interface SessionVerifier {
  verify(token: string): Promise<SessionPrincipal | null>;
}
