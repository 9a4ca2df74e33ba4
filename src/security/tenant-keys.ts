import { TenantMeshError } from "../errors/index.js";
import { aadPrefix, fromText, open, seal, toText, versionOf } from "./envelope.js";
import { decryptionFailed } from "./keystore.js";

/** An encryption context: what the data is and where it lives (e.g. `users/<id>/mfa_secret`), bound as AAD */
export type Context = string | Buffer;

const asBuffer = (context: Context): Buffer => (typeof context === "string" ? Buffer.from(context, "utf8") : context);

/** What a tenant's keys look like from outside: versions only, never key material */
export interface KeyVersions {
  tenantId: string;
  latestVersion: number;
  minDecryptionVersion: number;
}

/**
 * One tenant's usable data keys, unwrapped, as loaded by the Keyring: the newest (for new encryptions) and
 * every version from the minimum decryption version up. Encryption and decryption are synchronous, so a hot
 * path pays one map lookup on top of AES-GCM. Never logged: `toJSON` and `inspect` show versions only.
 */
export class TenantKeys implements KeyVersions {
  readonly #keys: ReadonlyMap<number, Buffer>;
  readonly #prefixes = new Map<number, Buffer>();

  constructor(
    readonly tenantId: string,
    readonly latestVersion: number,
    readonly minDecryptionVersion: number,
    keys: ReadonlyMap<number, Buffer>,
  ) {
    this.#keys = keys;
    for (const version of keys.keys()) this.#prefixes.set(version, aadPrefix(tenantId, version));
  }

  /** Encrypts under the newest version */
  encrypt(plaintext: Buffer, context: Context): Buffer {
    const key = this.#keys.get(this.latestVersion);
    const prefix = this.#prefixes.get(this.latestVersion);
    if (key === undefined || prefix === undefined) throw new Error(`tenant ${this.tenantId}: newest key version ${this.latestVersion} is not loaded`);
    return seal(key, this.latestVersion, prefix, asBuffer(context), plaintext);
  }

  /**
   * Decrypts a ciphertext of this tenant sealed with the same context. A retired version is
   * TM_ERR_KEY_RETIRED; anything else that does not verify (another tenant's, another context, altered) is
   * TM_ERR_DECRYPTION_FAILED, with no hint which.
   */
  decrypt(ciphertext: Buffer, context: Context): Buffer {
    const version = versionOf(ciphertext);
    if (version === undefined) throw decryptionFailed();
    if (version < this.minDecryptionVersion) {
      throw new TenantMeshError(
        "TM_ERR_KEY_RETIRED",
        `key version ${version} is retired: the minimum decryption version is ${this.minDecryptionVersion}`,
      );
    }
    const key = this.#keys.get(version);
    const prefix = this.#prefixes.get(version);
    if (key === undefined || prefix === undefined) throw decryptionFailed();
    const plaintext = open(key, prefix, asBuffer(context), ciphertext);
    if (plaintext === undefined) throw decryptionFailed();
    return plaintext;
  }

  /** True when this snapshot may simply be older than the ciphertext (a rotation elsewhere): reload and retry */
  isNewer(ciphertext: Buffer): boolean {
    return (versionOf(ciphertext) ?? 0) > this.latestVersion;
  }

  /** A text value sealed for a column: `tmenc:v<n>:…` */
  sealText(value: string, context: Context): string {
    return toText(this.encrypt(Buffer.from(value, "utf8"), context));
  }

  /** The plaintext of a sealed column value */
  openText(value: string, context: Context): string {
    const bytes = fromText(value);
    if (bytes === undefined) throw decryptionFailed();
    return this.decrypt(bytes, context).toString("utf8");
  }

  toJSON(): KeyVersions {
    return { tenantId: this.tenantId, latestVersion: this.latestVersion, minDecryptionVersion: this.minDecryptionVersion };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `TenantKeys(${this.tenantId}, v${this.minDecryptionVersion}..v${this.latestVersion})`;
  }
}
