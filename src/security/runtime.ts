/**
 * The security runtime of one control-plane process: the keystore, the keyring over it and the audit log. The
 * composition root builds it once (control-plane/start.ts) and hands it to every slice that encrypts or
 * audits, so there is one cache of unwrapped keys and one audit appender per process.
 */
import type { Clock } from "../auth/clock.js";
import { AuditLog } from "../audit/index.js";
import type { Secrets } from "../config/secrets.js";
import type { Database } from "../db/index.js";
import { TenantMeshError } from "../errors/index.js";
import { FileKeyStore } from "./file-keystore.js";
import { Keyring } from "./keyring.js";
import type { KeyStore } from "./keystore.js";
import { openFileKeyStore, replaceMasterKeyFile } from "./master-key.js";
import { auditLevelOf } from "./policy-store.js";

export interface SecurityRuntime {
  readonly keystore: KeyStore;
  readonly keyring: Keyring;
  readonly audit: AuditLog;
  /**
   * Master-key rotation: every tenant moves to a fresh KEK (its data keys re-wrapped, the old KEKs destroyed),
   * then the keystore is sealed under a fresh master key. Only for a master key kept in the data dir.
   */
  rotateMasterKey(actor: string): Promise<{ masterKeyId: string; tenants: number; dataKeys: number }>;
}

export interface SecurityRuntimeOptions {
  db: Database;
  clock: Clock;
  /** The keystore; default: the data dir's keystore file sealed by the master key */
  keystore?: KeyStore;
  dataDir?: string;
  secrets?: Pick<Secrets, "masterKey" | "masterKeySource" | "masterKeyFile">;
  cacheTtlMs?: number;
  /** Processes that only use keys (KYB backends) */
  readOnly?: boolean;
}

export function createSecurityRuntime(options: SecurityRuntimeOptions): SecurityRuntime {
  const { db, clock } = options;
  const keystore = options.keystore ?? fileKeyStore(options);
  const audit = new AuditLog({ db, clock, mac: (data) => keystore.mac(data), levelOf: auditLevelOf });
  const keyring = new Keyring({
    db,
    keystore,
    clock,
    readOnly: options.readOnly === true,
    ...(options.cacheTtlMs === undefined ? {} : { cacheTtlMs: options.cacheTtlMs }),
    onFirstKey: (trx, tenantId) =>
      audit.append(trx, tenantId, { action: "key.created", actor: "system:keyring", target: "key:v1", detail: { version: 1, trigger: "first_use" } }),
  });
  return {
    keystore,
    keyring,
    audit,
    async rotateMasterKey(actor) {
      if (!(keystore instanceof FileKeyStore) || options.secrets === undefined) {
        throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", `the ${keystore.kind} keystore's root key is not managed by tenantmesh`);
      }
      if (options.secrets.masterKeySource !== "file") {
        throw new TenantMeshError("TM_ERR_FAILED_PRECONDITION", "the master key comes from TENANTMESH_MASTER_KEY; see docs/security.md to rotate it");
      }
      const tenants = await keystore.tenants();
      let dataKeys = 0;
      for (const tenantId of tenants) {
        const rewrapped = await keyring.rotateKek(tenantId);
        dataKeys += rewrapped;
        await audit.record(tenantId, {
          action: "key.kek_rotated",
          actor,
          target: `tenant:${tenantId}`,
          essential: true,
          detail: { reason: "master_key_rotation", data_keys_rewrapped: rewrapped },
        });
      }
      const masterKeyId = await replaceMasterKeyFile(keystore, options.secrets);
      return { masterKeyId, tenants: tenants.length, dataKeys };
    },
  };
}

function fileKeyStore(options: SecurityRuntimeOptions): KeyStore {
  if (options.dataDir === undefined || options.secrets === undefined) throw new Error("createSecurityRuntime: a keystore or dataDir and secrets");
  return openFileKeyStore(options.dataDir, options.secrets);
}
