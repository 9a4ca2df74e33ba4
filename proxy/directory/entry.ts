import { BlockList, isIP } from "node:net";
import type { ApiKeyDigest, TenantConfig } from "../../src/gen/tenantmesh/v1/tenant.js";
import type { ApiKeyEntry, TenantEntry, TenantStatus } from "./types.js";

/** One tenant as a directory stores it: the immutable entry plus the digests of its live API keys */
export interface MappedTenant {
  readonly entry: TenantEntry;
  readonly keys: readonly ApiKeyEntry[];
}

const statuses: ReadonlySet<string> = new Set<TenantStatus>(["provisioning", "active", "suspended", "cancelled"]);

/**
 * Maps one TenantConfig from the WatchTenants feed to what the data plane checks on every request. Shared by
 * the watch directory, the static directory's callers and the last-known-good file (which stores TenantConfigs,
 * so the on-disk format is the wire format and needs no second schema). Returns undefined for a config without
 * a tenant or tenant id: nothing could be keyed on it.
 *
 * Fail-closed choices: an unknown status becomes `suspended` (the admit stage refuses it); a restriction list
 * whose entries are all unparsable compiles to an empty BlockList, which admits no address.
 */
export function tenantEntryFromConfig(config: TenantConfig): MappedTenant | undefined {
  const t = config.tenant;
  if (t === undefined || t.id === "") return undefined;
  const quota = t.performanceQuota;
  const current = positiveInt(t.scale?.current, 1);
  const networkRestrictions = t.networkRestrictions.map((c) => c.trim()).filter((c) => c !== "");
  const entry: TenantEntry = Object.freeze({
    id: t.id,
    slug: t.slug,
    name: t.name,
    status: statuses.has(t.status) ? (t.status as TenantStatus) : "suspended",
    planType: t.planType,
    performanceTier: t.performanceTier,
    priority: Math.min(10, positiveInt(t.priorityLevel, 1)),
    apiRateLimit: Math.max(0, t.apiRateLimit),
    burst: Math.max(0, t.burst),
    maxConcurrentRequests: Math.max(0, quota?.maxConcurrentReqs ?? 0),
    maxResponseTimeMs: Math.max(0, quota?.maxResponseTimeMs ?? 0),
    maxThroughputRps: Math.max(0, quota?.maxThroughputRps ?? 0),
    scale: Object.freeze({
      current,
      min: positiveInt(t.scale?.min, 1),
      max: Math.max(current, positiveInt(t.scale?.max, current)),
    }),
    enabledModules: new Set(t.enabledModules) as ReadonlySet<string>,
    networkRestrictions: Object.freeze(networkRestrictions),
    allowedNetworks: networkRestrictions.length === 0 ? undefined : compileNetworks(networkRestrictions),
    sessionsValidAfter: config.sessionsValidAfter?.getTime(),
  });
  return Object.freeze({ entry, keys: Object.freeze(config.apiKeys.map(keyEntry)) });
}

function keyEntry(digest: ApiKeyDigest): ApiKeyEntry {
  return Object.freeze({
    keyId: digest.keyId,
    secretHash: digest.secretHash,
    role: digest.role,
    expiresAt: digest.expiresAt?.getTime(),
  });
}

function positiveInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value >= 1 ? value : fallback;
}

/**
 * Compiles CIDR blocks (or bare addresses, taken as one host) into a BlockList used as an allow list:
 * `allowedNetworks.check(ip)` true means admitted. Node matches IPv4-mapped IPv6 callers (`::ffff:10.0.0.1`,
 * what a dual-stack listener reports) against IPv4 subnets, so one entry covers both forms. Host bits below
 * the prefix are masked, as the control plane's own normalisation allows.
 */
export function compileNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf("/");
    const address = slash === -1 ? cidr : cidr.slice(0, slash);
    const version = isIP(address);
    if (version === 0) continue;
    const max = version === 4 ? 32 : 128;
    const prefixText = slash === -1 ? String(max) : cidr.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) continue;
    list.addSubnet(address, Number(prefixText), version === 4 ? "ipv4" : "ipv6");
  }
  return list;
}

/** True when `ip` may call for `entry`: unrestricted tenants admit everyone */
export function isAddressAllowed(entry: TenantEntry, ip: string): boolean {
  if (entry.allowedNetworks === undefined) return true;
  const version = isIP(ip);
  if (version === 0) return false;
  return entry.allowedNetworks.check(ip, version === 4 ? "ipv4" : "ipv6");
}
