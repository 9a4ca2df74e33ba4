/**
 * Column-level encryption for other slices (users.mfa_secret, the KYB business's registration number and
 * sensitive details): a value is sealed with the owning tenant's newest data key, and the context names
 * table, row and column, so a ciphertext copied into another row, column or tenant does not open.
 *
 * Values written before encryption was introduced are plaintext (no `tmenc:` prefix) and are returned as
 * they are; the next write of the row seals them.
 */
import type { Tx } from "../db/index.js";
import { isSealedText } from "./envelope.js";
import type { Keyring } from "./keyring.js";

/** One tenant's keys for column values */
export interface FieldKeys {
  seal(value: string, context: string): string;
  /** The plaintext of a sealed value; a legacy plaintext value as is */
  open(stored: string, context: string): string;
}

/** What a slice needs to encrypt its columns (the Keyring, narrowed to this) */
export interface FieldCipher {
  /** Pass the open transaction when there is one (a single-connection database cannot open a second) */
  forTenant(tenantId: string, trx?: Tx): Promise<FieldKeys>;
}

export function fieldCipher(keyring: Keyring): FieldCipher {
  return {
    async forTenant(tenantId, trx) {
      const keys = await keyring.tenant(tenantId, trx);
      return {
        seal: (value, context) => keys.sealText(value, context),
        open: (stored, context) => (isSealedText(stored) ? keys.openText(stored, context) : stored),
      };
    },
  };
}

/** The context of a column value: `<table>/<row id>/<column>` */
export const fieldContext = (table: string, rowId: string, column: string): string => `${table}/${rowId}/${column}`;

/**
 * No encryption at all, said out loud: only for benchmarks and tests of other features that run KYB backends
 * in several processes without a shared keystore. Values are stored in the clear and read back as they are.
 */
export const unencryptedFieldsForTesting: FieldCipher = {
  forTenant: async () => ({ seal: (value) => value, open: (stored) => stored }),
};
