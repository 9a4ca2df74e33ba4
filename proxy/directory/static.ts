import { systemClock, type Clock } from "../../src/auth/clock.js";
import type { MappedTenant } from "./entry.js";
import type { ApiKeyEntry, DirectoryState, TenantDirectory, TenantEntry } from "./types.js";

export { tenantEntryFromConfig, compileNetworks, isAddressAllowed, type MappedTenant } from "./entry.js";

interface KeyHit {
  readonly tenant: TenantEntry;
  readonly key: ApiKeyEntry;
}

/**
 * A TenantDirectory held in memory and changed by hand: for tests, static deployments, and as the store under
 * the watch directory (which owns its `state`). Lookups are two Map reads. Every mutation notifies `onChange`
 * listeners synchronously after it is complete, so a listener never sees a half-applied change.
 */
export class StaticDirectory implements TenantDirectory {
  private readonly byId = new Map<string, TenantEntry>();
  private readonly byKey = new Map<string, KeyHit>();
  private readonly keysOf = new Map<string, readonly string[]>();
  private readonly listeners = new Set<(tenantIds: readonly string[]) => void>();
  private current: DirectoryState;
  private readonly clock: Clock;

  /**
   * `state` defaults to a loaded directory (`source: "feed"`, synced): a static deployment's tenants are all
   * the truth there is, so readiness must not wait for a feed that never comes.
   */
  constructor(options: { state?: Partial<DirectoryState>; clock?: Clock; tenants?: Iterable<MappedTenant> } = {}) {
    this.clock = options.clock ?? systemClock;
    this.current = Object.freeze({ source: "feed", synced: true, version: "0", lastUpdateAt: undefined, ...options.state });
    for (const t of options.tenants ?? []) this.put(t.entry, t.keys);
  }

  tenant(id: string): TenantEntry | undefined {
    return this.byId.get(id);
  }

  apiKey(keyId: string): KeyHit | undefined {
    return this.byKey.get(keyId);
  }

  tenants(): Iterable<TenantEntry> {
    return this.byId.values();
  }

  apiKeysOf(tenantId: string): readonly ApiKeyEntry[] {
    const keys: ApiKeyEntry[] = [];
    for (const keyId of this.keysOf.get(tenantId) ?? []) {
      const hit = this.byKey.get(keyId);
      if (hit !== undefined) keys.push(hit.key);
    }
    return keys;
  }

  /** Number of tenants held */
  get size(): number {
    return this.byId.size;
  }

  state(): DirectoryState {
    return this.current;
  }

  onChange(listener: (tenantIds: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds or replaces one tenant and all of its keys (keys it had before and `keys` lacks are gone) */
  upsert(entry: TenantEntry, keys: readonly ApiKeyEntry[] = []): void {
    this.put(entry, keys);
    this.touched([entry.id]);
  }

  /** Removes a tenant and its keys; false when it was not there */
  remove(id: string): boolean {
    const had = this.drop(id);
    if (had) this.touched([id]);
    return had;
  }

  /**
   * Replaces every tenant at once (a feed snapshot, a reset, a last-known-good load). Listeners hear every id
   * that was or now is present, once.
   */
  replaceAll(tenants: Iterable<MappedTenant>): void {
    const ids = new Set(this.byId.keys());
    this.byId.clear();
    this.byKey.clear();
    this.keysOf.clear();
    for (const t of tenants) {
      this.put(t.entry, t.keys);
      ids.add(t.entry.id);
    }
    this.touched([...ids]);
  }

  /** Sets the reported state; the watch directory calls this as the feed connects, syncs and drops */
  setState(patch: Partial<DirectoryState>): void {
    this.current = Object.freeze({ ...this.current, ...patch });
  }

  private put(entry: TenantEntry, keys: readonly ApiKeyEntry[]): void {
    this.drop(entry.id);
    this.byId.set(entry.id, entry);
    const ids: string[] = [];
    for (const key of keys) {
      // A key id names one key platform-wide; should a stale entry elsewhere still hold it, the newest wins.
      const previous = this.byKey.get(key.keyId);
      if (previous !== undefined && previous.tenant.id !== entry.id) {
        this.keysOf.set(previous.tenant.id, (this.keysOf.get(previous.tenant.id) ?? []).filter((k) => k !== key.keyId));
      }
      this.byKey.set(key.keyId, Object.freeze({ tenant: entry, key }));
      ids.push(key.keyId);
    }
    this.keysOf.set(entry.id, ids);
  }

  private drop(id: string): boolean {
    for (const keyId of this.keysOf.get(id) ?? []) this.byKey.delete(keyId);
    this.keysOf.delete(id);
    return this.byId.delete(id);
  }

  private touched(ids: readonly string[]): void {
    this.current = Object.freeze({ ...this.current, lastUpdateAt: this.clock.now() });
    let failure: unknown;
    for (const listener of this.listeners) {
      try {
        listener(ids);
      } catch (err) {
        // Every listener hears the change even if one throws; the first error still surfaces (it is a bug)
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
