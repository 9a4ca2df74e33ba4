/**
 * The KYB fields stored encrypted with the owning tenant's key (src/security): the registration number, and
 * from the details the tax identifiers and the beneficial owners (names, shares, countries, PEP status). The
 * rest of the details stays in the clear, so it can be queried. Each value's context names the business and
 * the column, so a ciphertext copied into another business, column or tenant does not open.
 */
import { fieldContext, type FieldKeys } from "../security/fields.js";
import type { BusinessDetails } from "./model.js";

/** Details keys holding tax identifiers */
export const SENSITIVE_DETAIL_KEYS = ["tax_number", "tax_id", "vat_number"] as const;

type Json = Record<string, unknown>;

/** The details without their sensitive parts, and those parts (undefined when there are none) */
export function splitDetails(details: BusinessDetails): { clear: Json; sensitive: Json | undefined } {
  const clear: Json = { ...details };
  const sensitive: Json = {};
  for (const key of SENSITIVE_DETAIL_KEYS) {
    if (key in clear) {
      sensitive[key] = clear[key];
      delete clear[key];
    }
  }
  const ownership = details.ownership;
  if (ownership !== null && ownership !== undefined && ownership.beneficial_owners !== undefined) {
    const { beneficial_owners, ...rest } = ownership;
    sensitive.beneficial_owners = beneficial_owners;
    clear.ownership = rest;
  }
  return { clear, sensitive: Object.keys(sensitive).length === 0 ? undefined : sensitive };
}

/** The details as the caller gave them: the clear part with the sensitive part put back */
export function mergeDetails(clear: Json, sensitive: Json | undefined): BusinessDetails {
  if (sensitive === undefined) return clear as BusinessDetails;
  const { beneficial_owners, ...rest } = sensitive;
  const merged: Json = { ...clear, ...rest };
  if (beneficial_owners !== undefined) merged.ownership = { ...((clear.ownership as Json | null | undefined) ?? {}), beneficial_owners };
  return merged as BusinessDetails;
}

const ctx = (businessId: string, column: string): string => fieldContext("businesses", businessId, column);

/** Column values of a new business: registration number and sensitive details sealed, the rest clear */
export function sealBusiness(keys: FieldKeys, id: string, registrationNumber: string | null, details: BusinessDetails): {
  registration_number: string | null;
  details: Json;
  sealed_details: string | null;
} {
  const { clear, sensitive } = splitDetails(details);
  return {
    registration_number: registrationNumber === null ? null : keys.seal(registrationNumber, ctx(id, "registration_number")),
    details: clear,
    sealed_details: sensitive === undefined ? null : keys.seal(JSON.stringify(sensitive), ctx(id, "sealed_details")),
  };
}

/** The plain registration number and details of a stored business (legacy plaintext values pass as they are) */
export function openBusiness(
  keys: FieldKeys,
  row: { id: string; registration_number: string | null; details: Json | null; sealed_details: string | null },
): { registrationNumber: string | null; details: BusinessDetails } {
  const sensitive = row.sealed_details === null ? undefined : (JSON.parse(keys.open(row.sealed_details, ctx(row.id, "sealed_details"))) as Json);
  return {
    registrationNumber: row.registration_number === null ? null : keys.open(row.registration_number, ctx(row.id, "registration_number")),
    details: mergeDetails(row.details ?? {}, sensitive),
  };
}
