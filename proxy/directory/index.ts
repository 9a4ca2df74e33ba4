/** The tenant directory: contracts, the in-memory and WatchTenants-fed implementations, and their mapping */
export type { ApiKeyEntry, DirectoryState, SessionPrincipal, SessionVerifier, TenantDirectory, TenantEntry, TenantStatus } from "./types.js";
export { compileNetworks, isAddressAllowed, tenantEntryFromConfig, type MappedTenant } from "./entry.js";
export { StaticDirectory } from "./static.js";
export { LAST_KNOWN_GOOD_FILE, WatchDirectory, type WatchDirectoryOptions } from "./watch.js";
export { directoryStaleness, registerDirectoryMetrics } from "./metrics.js";
