/**
 * The built-in KeyStore: tenants' KEKs in one file of the data dir (`keystore.json`, mode 0600), sealed whole
 * with AES-256-GCM under the master key, so the file alone reveals not even which tenants exist. Every change
 * is written to a temporary file, fsynced and renamed over the old one: a crash leaves the old or the new
 * keystore, never half of one.
 *
 * One writer: the control plane. Other processes on the same data dir (a KYB backend) only read, and re-read
 * when they meet a KEK they do not know yet. Several control-plane replicas need a shared KMS instead (see
 * docs/security.md); the KeyStore port is what such an implementation fills.
 */
import { createHmac, randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { TenantMeshError } from "../errors/index.js";
import { unwrapKey, wrapKey } from "./envelope.js";
import { emptyState, LocalKeyStore, type KekEntry, type KeyStoreState } from "./keystore.js";

const FORMAT = "tenantmesh-keystore/1";

interface SealedFile {
  format: string;
  master_key_id: string;
  sealed: string;
}

interface PlainState {
  audit_key: string;
  tenants: Record<string, { current: string; made: number; keks: Record<string, string>; shredded_at?: string }>;
}

/** A non-secret fingerprint of a master key: tells which key sealed a keystore without revealing it */
export const masterKeyId = (masterKey: Buffer): string => createHmac("sha256", masterKey).update("tenantmesh master key id").digest("hex").slice(0, 16);

const aadOf = (id: string): Buffer => Buffer.from(`${FORMAT}|${id}`);

function encode(state: KeyStoreState): Buffer {
  const tenants: PlainState["tenants"] = {};
  for (const [id, e] of state.tenants) {
    tenants[id] = {
      current: e.current,
      made: e.made,
      keks: Object.fromEntries([...e.keks].map(([k, v]) => [k, v.toString("base64")])),
      ...(e.shreddedAt === undefined ? {} : { shredded_at: e.shreddedAt }),
    };
  }
  return Buffer.from(JSON.stringify({ audit_key: state.auditKey.toString("base64"), tenants } satisfies PlainState));
}

function decode(bytes: Buffer): KeyStoreState {
  const plain = JSON.parse(bytes.toString("utf8")) as PlainState;
  const tenants = new Map<string, KekEntry>();
  for (const [id, e] of Object.entries(plain.tenants)) {
    tenants.set(id, {
      current: e.current,
      made: e.made,
      keks: new Map(Object.entries(e.keks).map(([k, v]) => [k, Buffer.from(v, "base64")])),
      shreddedAt: e.shredded_at,
    });
  }
  return { tenants, auditKey: Buffer.from(plain.audit_key, "base64") };
}

/** Reads which master key sealed the keystore file (undefined: no file yet) */
export function sealedWith(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as SealedFile).master_key_id;
}

/** Opens the file with `masterKey`; a wrong key or an altered file is TM_ERR_INVALID_CONFIG (start-up fails) */
function readSealed(file: string, masterKey: Buffer): KeyStoreState {
  const sealed = JSON.parse(readFileSync(file, "utf8")) as SealedFile;
  const id = masterKeyId(masterKey);
  if (sealed.format !== FORMAT) throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `${file}: unknown keystore format`);
  if (sealed.master_key_id !== id) {
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `${file} is sealed by another master key (id ${sealed.master_key_id}, configured ${id})`);
  }
  const plain = unwrapKey(masterKey, Buffer.from(sealed.sealed, "base64"), aadOf(id));
  if (plain === undefined) throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `${file} does not verify under the master key: altered or damaged`);
  return decode(plain);
}

/** Writes `bytes` to `file` atomically (temp file, fsync, rename, fsync of the directory), mode 0600 */
export function writeFileAtomic(file: string, bytes: Buffer | string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, typeof bytes === "string" ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(path.dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export class FileKeyStore extends LocalKeyStore {
  override readonly kind = "file";
  #masterKey: Buffer;
  #seen: { mtimeMs: number; size: number } | undefined;

  private constructor(
    readonly file: string,
    masterKey: Buffer,
    state: KeyStoreState,
  ) {
    super(state);
    this.#masterKey = masterKey;
  }

  /** Opens the keystore file, creating an empty one (with a fresh audit key) on first start */
  static open(file: string, masterKey: Buffer): FileKeyStore {
    if (!existsSync(file)) {
      const store = new FileKeyStore(file, masterKey, emptyState());
      store.#write();
      return store;
    }
    const store = new FileKeyStore(file, masterKey, readSealed(file, masterKey));
    store.#remember();
    return store;
  }

  /** The fingerprint of the master key sealing the file now */
  get masterKeyId(): string {
    return masterKeyId(this.#masterKey);
  }

  /** Re-seals the whole keystore under a new master key (master-key rotation's last step) */
  async reseal(newMasterKey: Buffer): Promise<void> {
    await this.exclusive(async () => {
      const previous = this.#masterKey;
      this.#masterKey = newMasterKey;
      try {
        this.#write();
      } catch (err) {
        this.#masterKey = previous;
        throw err;
      }
    });
  }

  protected override async persist(): Promise<void> {
    try {
      this.#write();
    } catch (err) {
      // The change is not on disk: forget it too, so nothing uses a key a crash would lose.
      this.state = readSealed(this.file, this.#masterKey);
      throw err;
    }
  }

  protected override async refresh(): Promise<void> {
    const stat = statSync(this.file, { throwIfNoEntry: false });
    if (stat === undefined || (this.#seen && stat.mtimeMs === this.#seen.mtimeMs && stat.size === this.#seen.size)) return;
    this.state = readSealed(this.file, this.#masterKey);
    this.#remember();
  }

  #write(): void {
    const id = masterKeyId(this.#masterKey);
    const plain = encode(this.state);
    const sealed: SealedFile = { format: FORMAT, master_key_id: id, sealed: wrapKey(this.#masterKey, plain, aadOf(id)).toString("base64") };
    plain.fill(0);
    writeFileAtomic(this.file, `${JSON.stringify(sealed)}\n`);
    this.#remember();
  }

  #remember(): void {
    const stat = statSync(this.file);
    this.#seen = { mtimeMs: stat.mtimeMs, size: stat.size };
  }
}
