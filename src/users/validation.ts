/**
 * Edge validation of the users slice: field formats shared by CreateUser and UpdateUser. Violations name
 * wire fields (snake_case) so a caller can find them in user.proto.
 */
import { z } from "zod";
import { isPermission, isRole, type Role } from "../authz/index.js";

/** The same shape the users.email CHECK constraint enforces, checked first for a readable error */
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
/** BCP-47-ish: a 2–3 letter language, then subtags (script, region, variant); fits users.language VARCHAR(10) */
const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** Serialized size limit of preferences, so the column cannot be used as free storage */
export const MAX_PREFERENCES_BYTES = 16 * 1024;

/** True for an IANA time zone name this runtime knows (`Europe/Berlin`, `UTC`) */
export function isTimeZone(value: string): boolean {
  if (value.length === 0 || value.length > 50) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** True for a well-formed BCP-47 tag of at most 10 characters (`en`, `de-CH`, `pt-BR`) */
export function isLanguageTag(value: string): boolean {
  if (value.length > 10 || !LANGUAGE.test(value)) return false;
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

export const emailSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .max(255, "must be at most 255 characters")
  .regex(EMAIL, "must be an email address");

export const roleSchema = z.string().refine(isRole, "must be one of admin, manager, user, viewer").transform((r) => r as Role);

export const permissionsSchema = z
  .array(z.string().refine(isPermission, "is not a known permission (see docs/permissions.md)"))
  .max(64, "at most 64 permissions")
  .transform((list) => [...new Set(list)].sort());

/** `{permission: boolean}`; unknown names and non-boolean values are refused */
export const tenantPermissionsSchema = z
  .record(z.string().refine(isPermission, "is not a known permission (see docs/permissions.md)"), z.boolean("must be true or false"))
  .transform((r) => ({ ...r }) as Record<string, boolean>);

export const timezoneSchema = z.string().refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin");
export const languageSchema = z.string().refine(isLanguageTag, "must be a BCP-47 language tag such as en or de-CH");

export const preferencesSchema = z
  .record(z.string(), z.unknown())
  .refine((p) => Buffer.byteLength(JSON.stringify(p)) <= MAX_PREFERENCES_BYTES, `must serialize to at most ${MAX_PREFERENCES_BYTES} bytes`);

/** A tenant or user id as sent: empty (meaning "mine" / "none"), or a UUID */
export const optionalUuid = z.union([z.literal(""), z.uuid("must be a UUID")]);
export const requiredUuid = z.uuid("must be a UUID");
