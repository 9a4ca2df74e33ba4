/**
 * Per-tenant envelope encryption, in the manner of AWS KMS envelopes and Vault's transit engine: each tenant has
 * versioned AES-256 data keys (tenant_data_keys), each wrapped by one of the tenant's own KEKs in the KeyStore.
 * New encryptions use the newest version; older versions decrypt until the tenant's minimum decryption version
 * passes them. Unwrapped keys are cached per tenant for `cacheTtlMs`, so a hot path costs a map lookup; the
 * TTL bounds how long a rotation, retirement or purge made by another process takes to reach this one.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../auth/clock.js";
import type { Database, Tx } from "../db/index.js";
import { TenantMeshError } from "../errors/index.js";
import { dataKeys, findKeyring, insertDataKey, lockOrCreateKeyring, rewrapDataKey, updateKeyring, type KeyringRow } from "./data-keys.js";
import { keyDestroyed, type KeyStore } from "./keystore.js";
import { TenantKeys, type Context } from "./tenant-keys.js";

export interface KeyringOptions {
  db: Database;
  keystore: KeyStore;
  clock: Clock;
  /** How long loaded keys are reused; default 5 s */
  cacheTtlMs?: number;
  /** Never create keys: processes other than the control plane (the KYB backends) only use them */
  readOnly?: boolean;
  /** Called in the creating transaction when a tenant's first key is made on first use (to audit it) */
  onFirstKey?(trx: Tx, tenantId: string): Promise<void>;
}

/** A tenant's key versions as GetKeyInfo shows them (no key material) */
export interface KeyInfo {
  tenantId: string;
  latestVersion: number;
  minDecryptionVersion: number;
  versions: Array<{ version: number; createdAt: Date }>;
  rotatedAt: Date | null;
  shreddedAt: Date | null;
}

const dataKeyAad = (tenantId: string, version: number): Buffer => Buffer.from(`tm-dk/1|${tenantId}|${version}`);

export class Keyring {
  readonly keystore: KeyStore;
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #readOnly: boolean;
  readonly #onFirstKey: KeyringOptions["onFirstKey"];
  readonly #cache = new Map<string, { keys: TenantKeys; expiresAt: number }>();
  readonly #loading = new Map<string, Promise<TenantKeys>>();

  constructor(options: KeyringOptions) {
    this.keystore = options.keystore;
    this.#db = options.db;
    this.#clock = options.clock;
    this.#ttlMs = options.cacheTtlMs ?? 5_000;
    this.#readOnly = options.readOnly === true;
    this.#onFirstKey = options.onFirstKey;
  }

  /**
   * The tenant's usable keys, creating its first ones when it has none. Pass the caller's open transaction
   * when there is one: on a single-connection database a second transaction would wait for it forever. Keys
   * created inside a caller's transaction are cached only after it commits, since it may still roll back.
   */
  async tenant(tenantId: string, trx?: Tx): Promise<TenantKeys> {
    const hit = this.cached(tenantId);
    if (hit !== undefined) return hit;
    if (trx !== undefined) {
      const { keys, created } = await this.#load(trx, tenantId);
      if (!created) this.#remember(keys);
      // Keys made in the caller's transaction are cached only once it commits: a rollback takes them back.
      else void trx.executionPromise.then(() => this.#remember(keys), () => undefined);
      return keys;
    }
    const inFlight = this.#loading.get(tenantId);
    if (inFlight !== undefined) return inFlight;
    const loading = this.#db
      .withTenant(tenantId, (t) => this.#load(t, tenantId))
      .then(({ keys }) => this.#remember(keys))
      .finally(() => this.#loading.delete(tenantId));
    this.#loading.set(tenantId, loading);
    return loading;
  }

  /**
   * The tenant's keys when they are cached and fresh: the hot path, with no promise and no I/O. Hot code does
   * `keyring.cached(id) ?? (await keyring.tenant(id))` and then encrypts or decrypts synchronously.
   */
  cached(tenantId: string): TenantKeys | undefined {
    const hit = this.#cache.get(tenantId);
    return hit !== undefined && hit.expiresAt > this.#clock.now() ? hit.keys : undefined;
  }

  async encrypt(tenantId: string, plaintext: Buffer, context: Context): Promise<Buffer> {
    const keys = this.cached(tenantId) ?? (await this.tenant(tenantId));
    return keys.encrypt(plaintext, context);
  }

  async decrypt(tenantId: string, ciphertext: Buffer, context: Context): Promise<Buffer> {
    let keys = this.cached(tenantId) ?? (await this.tenant(tenantId));
    if (keys.isNewer(ciphertext)) {
      this.invalidate(tenantId);
      keys = await this.tenant(tenantId);
    }
    return keys.decrypt(ciphertext, context);
  }

  /** Re-encrypts under the newest version without the plaintext ever leaving this process */
  async rewrap(tenantId: string, ciphertext: Buffer, context: Context): Promise<Buffer> {
    const plaintext = await this.decrypt(tenantId, ciphertext, context);
    try {
      return (await this.tenant(tenantId)).encrypt(plaintext, context);
    } finally {
      plaintext.fill(0);
    }
  }

  /** Adds a data-key version in the caller's tenant transaction; the cache forgets the tenant once it commits */
  async rotate(trx: Tx, tenantId: string): Promise<number> {
    const ring = await this.#ensure(trx, tenantId);
    const version = await this.#addVersion(trx, tenantId, ring);
    this.#forgetAfter(trx, tenantId);
    return version;
  }

  /** Retires (or, lowering it, restores) versions below `version`; 1 ≤ version ≤ latest */
  async setMinDecryptionVersion(trx: Tx, tenantId: string, version: number): Promise<KeyringRow> {
    const ring = await this.#ensure(trx, tenantId);
    if (!Number.isInteger(version) || version < 1 || version > ring.latest_version) {
      throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `min_decryption_version must be from 1 to ${ring.latest_version}`, {
        violations: [{ field: "min_decryption_version", description: `must be from 1 to the latest version ${ring.latest_version}` }],
      });
    }
    await updateKeyring(trx, tenantId, { min_decryption_version: version });
    this.#forgetAfter(trx, tenantId);
    return { ...ring, min_decryption_version: version };
  }

  async info(trx: Tx, tenantId: string): Promise<KeyInfo> {
    const ring = await findKeyring(trx, tenantId);
    const rows = await dataKeys(trx, tenantId);
    return {
      tenantId,
      latestVersion: ring?.latest_version ?? 0,
      minDecryptionVersion: ring?.min_decryption_version ?? 1,
      versions: rows.map((r) => ({ version: r.version, createdAt: r.created_at })),
      rotatedAt: ring?.rotated_at ?? null,
      shreddedAt: ring?.shredded_at ?? null,
    };
  }

  /**
   * Moves the tenant to a fresh KEK: every data key is re-wrapped under it, then the old KEKs are destroyed.
   * The data keys themselves (and so every ciphertext) stay as they are. Returns how many keys were re-wrapped.
   */
  async rotateKek(tenantId: string): Promise<number> {
    const kekId = await this.keystore.rotateKek(tenantId);
    const count = await this.#db.withTenant(tenantId, async (trx) => {
      await findKeyring(trx, tenantId, { lock: true });
      const rows = await dataKeys(trx, tenantId);
      for (const row of rows) {
        const aad = dataKeyAad(tenantId, row.version);
        const key = await this.keystore.unwrap(tenantId, row.kek_id, Buffer.from(row.wrapped_key, "base64"), aad);
        const wrapped = await this.keystore.wrap(tenantId, kekId, key, aad);
        key.fill(0);
        await rewrapDataKey(trx, tenantId, row.version, kekId, wrapped.toString("base64"));
      }
      return rows.length;
    });
    // Only once the database names the new KEK everywhere may the old ones go.
    await this.keystore.retireKeks(tenantId, kekId);
    this.invalidate(tenantId);
    return count;
  }

  invalidate(tenantId: string): void {
    this.#cache.delete(tenantId);
  }

  #remember(keys: TenantKeys): TenantKeys {
    this.#cache.set(keys.tenantId, { keys, expiresAt: this.#clock.now() + this.#ttlMs });
    return keys;
  }

  #forgetAfter(trx: Tx, tenantId: string): void {
    this.invalidate(tenantId);
    const forget = (): void => this.invalidate(tenantId);
    void trx.executionPromise.then(forget, forget);
  }

  async #ensure(trx: Tx, tenantId: string): Promise<KeyringRow> {
    if (this.#readOnly) throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "this process only uses keys; the control plane manages them");
    const ring = await lockOrCreateKeyring(trx, tenantId);
    if (ring.shredded_at !== null) throw keyDestroyed(tenantId);
    return ring;
  }

  async #load(trx: Tx, tenantId: string): Promise<{ keys: TenantKeys; created: boolean }> {
    let ring = await findKeyring(trx, tenantId);
    if (ring?.shredded_at != null) throw keyDestroyed(tenantId);
    let created = false;
    if (ring === undefined || ring.latest_version === 0) {
      if (this.#readOnly) throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `tenant ${tenantId} has no encryption keys yet`);
      ring = await this.#ensure(trx, tenantId);
      if (ring.latest_version === 0) {
        ring = { ...ring, latest_version: await this.#addVersion(trx, tenantId, ring) };
        created = true;
        await this.#onFirstKey?.(trx, tenantId);
      }
    }
    const keys = new Map<number, Buffer>();
    for (const row of await dataKeys(trx, tenantId, ring.min_decryption_version)) {
      const wrapped = Buffer.from(row.wrapped_key, "base64");
      keys.set(row.version, await this.keystore.unwrap(tenantId, row.kek_id, wrapped, dataKeyAad(tenantId, row.version)));
    }
    return { keys: new TenantKeys(tenantId, ring.latest_version, ring.min_decryption_version, keys), created };
  }

  async #addVersion(trx: Tx, tenantId: string, ring: KeyringRow): Promise<number> {
    const version = ring.latest_version + 1;
    const kekId = await this.keystore.currentKek(tenantId);
    const key = randomBytes(32);
    const wrapped = await this.keystore.wrap(tenantId, kekId, key, dataKeyAad(tenantId, version));
    key.fill(0);
    const now = new Date(this.#clock.now());
    await insertDataKey(trx, { tenant_id: tenantId, version, kek_id: kekId, wrapped_key: wrapped.toString("base64"), created_at: now });
    await updateKeyring(trx, tenantId, { latest_version: version, ...(version > 1 ? { rotated_at: now } : {}) });
    return version;
  }
}
