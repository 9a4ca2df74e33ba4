/**
 * The master key's life: which key opens the keystore at start-up, and master-key rotation for a key kept in
 * the data dir. Rotation writes the new key to `master-key.next` first, re-seals the keystore under it, then
 * renames it over `master-key`; a crash between the two leaves a keystore sealed by `master-key.next`, which
 * the next start recognises by its fingerprint and finishes. A key from TENANTMESH_MASTER_KEY is the
 * operator's to change: this process cannot rewrite its environment, so such rotation is refused here.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import type { Secrets } from "../config/secrets.js";
import { TenantMeshError } from "../errors/index.js";
import { FileKeyStore, masterKeyId, sealedWith, writeFileAtomic } from "./file-keystore.js";

export const KEYSTORE_FILE = "keystore.json";

const nextFile = (secrets: Pick<Secrets, "masterKeyFile">): string => `${secrets.masterKeyFile}.next`;

/** Opens (or creates) the data dir's keystore, finishing a master-key rotation a crash interrupted */
export function openFileKeyStore(dataDir: string, secrets: Pick<Secrets, "masterKey" | "masterKeySource" | "masterKeyFile">): FileKeyStore {
  const file = path.join(dataDir, KEYSTORE_FILE);
  let masterKey = secrets.masterKey;
  const sealedId = sealedWith(file);
  const next = nextFile(secrets);
  if (sealedId !== undefined && sealedId !== masterKeyId(masterKey) && secrets.masterKeySource === "file" && existsSync(next)) {
    const candidate = Buffer.from(readFileSync(next, "utf8").trim(), "base64");
    if (masterKeyId(candidate) === sealedId) {
      renameSync(next, secrets.masterKeyFile);
      masterKey = candidate;
    }
  }
  return FileKeyStore.open(file, masterKey);
}

/**
 * Replaces a file-kept master key with a fresh one and re-seals the keystore under it. The caller has already
 * moved every tenant to a fresh KEK (Keyring.rotateAllKeks), so nothing sealed by the old key stays in use.
 */
export async function replaceMasterKeyFile(store: FileKeyStore, secrets: Pick<Secrets, "masterKeySource" | "masterKeyFile">): Promise<string> {
  if (secrets.masterKeySource !== "file") {
    throw new TenantMeshError(
      "TM_ERR_FAILED_PRECONDITION",
      "the master key comes from TENANTMESH_MASTER_KEY: rotate it where it is kept (see docs/security.md); this process cannot",
    );
  }
  const fresh = randomBytes(32);
  writeFileAtomic(nextFile(secrets), `${fresh.toString("base64")}\n`);
  await store.reseal(fresh);
  renameSync(nextFile(secrets), secrets.masterKeyFile);
  return masterKeyId(fresh);
}
