/**
 * Where tenants' key-encryption keys (KEKs) live: outside the database, so a database backup alone never holds
 * a usable key. The KeyStore port is shaped like a KMS (AWS KMS, Google Cloud KMS) or Vault's transit engine:
 * keys never leave it, callers only ask it to wrap and unwrap data keys, and destroying a key is final. The
 * built-in implementations keep KEKs in this process: `LocalKeyStore` in memory (tests), and FileKeyStore
 * (file-keystore.ts), which persists them sealed by the master key.
 */
import { createHmac, randomBytes } from "node:crypto";
import { TenantMeshError } from "../errors/index.js";
import { unwrapKey, wrapKey } from "./envelope.js";

export interface KeyStore {
  /** A short name for logs and docs ("file", "memory", "aws-kms", …) */
  readonly kind: string;
  /** The tenant's current KEK id; the first KEK is created when it has none. TM_ERR_KEY_DESTROYED when shredded. */
  currentKek(tenantId: string): Promise<string>;
  /** Makes a fresh KEK current and returns its id; older KEKs still unwrap until retired */
  rotateKek(tenantId: string): Promise<string>;
  /** Encrypts a data key under the KEK; `aad` is bound to the result */
  wrap(tenantId: string, kekId: string, dataKey: Buffer, aad: Buffer): Promise<Buffer>;
  /** The data key; TM_ERR_KEY_DESTROYED when the KEK is gone, TM_ERR_DECRYPTION_FAILED when it does not verify */
  unwrap(tenantId: string, kekId: string, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
  /** Destroys every KEK of the tenant but `keep` (after its data keys were re-wrapped); the destroyed ids */
  retireKeks(tenantId: string, keep: string): Promise<string[]>;
  /** Destroys all of the tenant's KEKs for good and leaves a tombstone, so no KEK is ever made for it again */
  shred(tenantId: string): Promise<{ kekIds: string[]; alreadyShredded: boolean }>;
  isShredded(tenantId: string): Promise<boolean>;
  /** Tenants that hold KEKs (shredded ones excluded) */
  tenants(): Promise<string[]>;
  /** HMAC-SHA256 under the platform's audit key (the audit chain's MAC; KMSs offer this as GenerateMac) */
  mac(data: Buffer): Promise<Buffer>;
}

export const keyDestroyed = (tenantId: string): TenantMeshError =>
  new TenantMeshError("TM_ERR_KEY_DESTROYED", `the encryption keys of tenant ${tenantId} were destroyed; its encrypted data cannot be read`);

export const decryptionFailed = (): TenantMeshError =>
  new TenantMeshError("TM_ERR_DECRYPTION_FAILED", "the ciphertext cannot be decrypted with this tenant's keys and context");

/** One tenant's KEKs as a local store holds them (plaintext, in memory only) */
export interface KekEntry {
  current: string;
  keks: Map<string, Buffer>;
  /** Counts KEKs ever made, for readable ids */
  made: number;
  shreddedAt: string | undefined;
}

/** Everything a local store holds */
export interface KeyStoreState {
  tenants: Map<string, KekEntry>;
  auditKey: Buffer;
}

export const emptyState = (): KeyStoreState => ({ tenants: new Map(), auditKey: randomBytes(32) });

const wrapAad = (tenantId: string, kekId: string, aad: Buffer): Buffer => Buffer.concat([Buffer.from(`tm-kek/1|${tenantId}|${kekId}|`), aad]);

/**
 * A KeyStore over KEKs held in this process. `persist` runs after every change and before the change is
 * reported done, so a caller never uses a KEK that a crash could lose; FileKeyStore supplies it.
 */
export class LocalKeyStore implements KeyStore {
  readonly kind: string = "memory";
  protected state: KeyStoreState;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(state: KeyStoreState = emptyState()) {
    this.state = state;
  }

  /**
   * Runs changes (and re-reads) one at a time: a re-read must never replace state that a change in flight
   * has not yet persisted.
   */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Saves the state (no-op in memory); overridden by FileKeyStore */
  protected async persist(): Promise<void> {}

  /** Re-reads the state when another process may have changed it (no-op in memory) */
  protected async refresh(): Promise<void> {}

  async currentKek(tenantId: string): Promise<string> {
    const known = this.state.tenants.get(tenantId);
    if (known !== undefined && known.shreddedAt === undefined) return known.current;
    return this.exclusive(async () => {
      if (!this.state.tenants.has(tenantId)) await this.refresh();
      const entry = this.state.tenants.get(tenantId);
      if (entry?.shreddedAt !== undefined) throw keyDestroyed(tenantId);
      return entry !== undefined ? entry.current : this.#rotate(tenantId);
    });
  }

  async rotateKek(tenantId: string): Promise<string> {
    return this.exclusive(() => this.#rotate(tenantId));
  }

  async #rotate(tenantId: string): Promise<string> {
    const entry = this.state.tenants.get(tenantId) ?? { current: "", keks: new Map(), made: 0, shreddedAt: undefined };
    if (entry.shreddedAt !== undefined) throw keyDestroyed(tenantId);
    entry.made += 1;
    const id = `kek${entry.made}-${randomBytes(4).toString("hex")}`;
    entry.keks.set(id, randomBytes(32));
    entry.current = id;
    this.state.tenants.set(tenantId, entry);
    await this.persist();
    return id;
  }

  async wrap(tenantId: string, kekId: string, dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    return wrapKey(await this.#kek(tenantId, kekId), dataKey, wrapAad(tenantId, kekId, aad));
  }

  async unwrap(tenantId: string, kekId: string, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const key = unwrapKey(await this.#kek(tenantId, kekId), wrapped, wrapAad(tenantId, kekId, aad));
    if (key === undefined) throw decryptionFailed();
    return key;
  }

  async retireKeks(tenantId: string, keep: string): Promise<string[]> {
    return this.exclusive(async () => {
      const entry = this.state.tenants.get(tenantId);
      if (entry === undefined || !entry.keks.has(keep)) return [];
      const gone = [...entry.keks.keys()].filter((id) => id !== keep);
      // Dropped from the map only: the Buffers may still be in use by a wrap in flight; they become garbage.
      for (const id of gone) entry.keks.delete(id);
      entry.current = keep;
      if (gone.length > 0) await this.persist();
      return gone;
    });
  }

  async shred(tenantId: string): Promise<{ kekIds: string[]; alreadyShredded: boolean }> {
    return this.exclusive(async () => {
      await this.refresh();
      const entry = this.state.tenants.get(tenantId);
      if (entry?.shreddedAt !== undefined) return { kekIds: [], alreadyShredded: true };
      const kekIds = [...(entry?.keks.keys() ?? [])];
      this.state.tenants.set(tenantId, { current: "", keks: new Map(), made: entry?.made ?? 0, shreddedAt: new Date().toISOString() });
      await this.persist();
      // Zeroed only once the file no longer holds them: this process's memory should not keep them either.
      for (const key of entry?.keks.values() ?? []) key.fill(0);
      return { kekIds, alreadyShredded: false };
    });
  }

  async isShredded(tenantId: string): Promise<boolean> {
    return this.state.tenants.get(tenantId)?.shreddedAt !== undefined;
  }

  async tenants(): Promise<string[]> {
    return [...this.state.tenants.entries()].filter(([, e]) => e.shreddedAt === undefined).map(([id]) => id);
  }

  async mac(data: Buffer): Promise<Buffer> {
    return createHmac("sha256", this.state.auditKey).update(data).digest();
  }

  async #kek(tenantId: string, kekId: string): Promise<Buffer> {
    let entry = this.state.tenants.get(tenantId);
    if (entry === undefined || (entry.shreddedAt === undefined && !entry.keks.has(kekId))) {
      // Another process (the control plane) may have made it since this one read the keystore.
      await this.exclusive(() => this.refresh());
      entry = this.state.tenants.get(tenantId);
    }
    const key = entry?.keks.get(kekId);
    if (key === undefined) throw keyDestroyed(tenantId);
    return key;
  }
}
