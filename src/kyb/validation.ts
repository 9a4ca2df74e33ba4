/**
 * Edge validation of KYB requests, shared by HTTP and gRPC: both hand over the request in its wire names
 * (snake_case), so a violation names the field the caller sent. Everything after this trusts the parsed value.
 */
import { z } from "zod";
import { isUuid } from "../db/index.js";
import { invalidArgument, type FieldViolation } from "../errors/index.js";
import type { NewBusiness } from "./model.js";
import { assessRisk } from "./risk.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** `details` is free-form; this bounds what one business may store */
export const MAX_DETAILS_BYTES = 64 * 1024;

/** "2023-02-30" has the shape but is no date: only a real calendar day survives the round trip through Date */
function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code (two letters)");

const ownerSchema = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(255),
  ownership_pct: z.number().min(0, "must be from 0 to 100").max(100, "must be from 0 to 100"),
  country: countryCode.optional(),
  pep: z.boolean().optional(),
});

// Strict below `details` itself: a misspelt key here ("beneficial_owner") would silently change a risk score.
const ownershipSchema = z.strictObject({
  beneficial_owners: z.array(ownerSchema).max(100).optional(),
  ownership_layers: z.number().int("must be a whole number").min(0).max(100).optional(),
  nominee_shareholders: z.boolean().optional(),
});

const detailsSchema = z
  .looseObject({
    description: z.string().max(10_000).nullish(),
    incorporation_date: z.string().refine(isCalendarDate, "must be a calendar date YYYY-MM-DD").nullish(),
    ownership: ownershipSchema.nullish(),
  })
  .refine((d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_DETAILS_BYTES, `must be at most ${MAX_DETAILS_BYTES} bytes as JSON`);

const createSchema = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(255, "must be at most 255 characters"),
  registration_number: z
    .string()
    .trim()
    .max(100, "must be at most 100 characters")
    .nullish()
    .transform((v) => (v ? v : null)),
  country: countryCode,
  details: detailsSchema.nullish().transform((d) => d ?? {}),
});

/** Wire path of a zod issue: `details.ownership.beneficial_owners[1].ownership_pct` (as the risk engine names them) */
function fieldOf(path: readonly PropertyKey[]): string {
  let field = "";
  for (const p of path) field += typeof p === "number" ? `[${p}]` : `${field === "" ? "" : "."}${String(p)}`;
  return field === "" ? "(body)" : field;
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidArgument(result.error.issues.map((i) => ({ field: fieldOf(i.path), description: i.message })));
}

/**
 * A new business from a request body. Beyond the shapes, the details must be assessable later: the risk
 * engine's own checks (real calendar date, not in the future, owners' shares not above 100 %) run now, so a
 * stored business never fails its risk assessment on input the caller could have fixed at creation.
 */
export function parseNewBusiness(body: unknown, now: Date): NewBusiness {
  const input = parse(createSchema, body);
  const { description: _, incorporation_date, ownership } = input.details;
  const check = assessRisk({ country: input.country, industry_code: null, incorporation_date, ownership, now });
  if (!check.ok) {
    throw invalidArgument(
      check.violations.map((v) => ({ field: v.field === "country" ? v.field : `details.${v.field}`, description: v.description })),
    );
  }
  return { name: input.name, registrationNumber: input.registration_number, country: input.country, details: input.details };
}

/** A business id from a path or a request: a malformed one is INVALID_ARGUMENT (it reveals nothing) */
export function parseBusinessId(id: string): string {
  if (!isUuid(id)) throw invalidArgument([{ field: "id", description: "must be a UUID" }]);
  return id.toLowerCase();
}

/** The page size of a listing: 0 or absent means the default */
export function parsePageSize(value: number | string | undefined): number {
  const violation: FieldViolation = { field: "page_size", description: `must be a whole number from 0 to ${MAX_PAGE_SIZE}` };
  if (value === undefined || value === "") return DEFAULT_PAGE_SIZE;
  const n = typeof value === "number" ? value : /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw invalidArgument([violation]);
  return n === 0 ? DEFAULT_PAGE_SIZE : n;
}
