import { ISO_3166_ALPHA2 } from "./iso-3166.js";
import {
  FATF_CALL_FOR_ACTION,
  FATF_INCREASED_MONITORING,
  FATF_LISTS_AS_OF,
  INDUSTRY_RISK,
  type IndustryRisk,
  type Jurisdiction,
  MAX_OWNERSHIP_LAYERS,
  MIN_DISCLOSED_OWNERSHIP_PCT,
  RISK_LEVEL_MINIMUMS,
  RISK_POINTS,
  type RiskLevel,
  SECRECY_JURISDICTIONS,
} from "./risk-tables.js";

export type { RiskLevel } from "./risk-tables.js";

export interface BeneficialOwner {
  readonly name: string;
  /** Effective share of the business, 0..100 */
  readonly ownership_pct: number;
  /** ISO 3166-1 alpha-2 country of residence */
  readonly country?: string;
  /** Politically exposed person */
  readonly pep?: boolean;
}

export interface Ownership {
  readonly beneficial_owners?: readonly BeneficialOwner[];
  /** Legal entities between the business and its beneficial owners; 0 or 1 means directly held */
  readonly ownership_layers?: number;
  readonly nominee_shareholders?: boolean;
}

export interface RiskInput {
  /** ISO 3166-1 alpha-2, upper case, as stored in `businesses.country` */
  readonly country: string;
  /** NAICS code (2-6 digits); null or "99" when unclassified */
  readonly industry_code: string | null;
  /** A calendar date "YYYY-MM-DD" (read as UTC) or a Date */
  readonly incorporation_date?: string | Date | null;
  readonly ownership?: Ownership | null;
  /** The clock is an input so the same input always scores the same */
  readonly now: Date;
}

export type RiskFactorId = keyof typeof RISK_POINTS | "industry_risk";

export interface RiskFactor {
  readonly factor: RiskFactorId;
  readonly points: number;
  /** For reviewers and audit logs; never contains an owner's name */
  readonly reason: string;
}

export interface RiskAssessment {
  /** Integer 0..100: the sum of the factors' points, capped at 100 */
  readonly score: number;
  readonly level: RiskLevel;
  /** Only factors that add points, in a fixed order: country, industry, age, ownership */
  readonly factors: readonly RiskFactor[];
}

export interface Violation {
  /** Path of the offending input, e.g. "ownership.beneficial_owners[1].ownership_pct" */
  readonly field: string;
  readonly description: string;
}

/** Invalid input is an expected outcome, so it is a value, not an exception */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly violations: readonly Violation[] };

const COUNTRY_FORMAT = /^[A-Z]{2}$/;
const INDUSTRY_FORMAT = /^\d{2,6}$/;
const DATE_FORMAT = /^(\d{4})-(\d{2})-(\d{2})$/;
const UNCLASSIFIED_CODE = "99";

function parseIncorporationDate(value: string | Date): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  const match = DATE_FORMAT.exec(value);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2023-02-30 over into March; only a real calendar date survives the round trip.
  const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? date : undefined;
}

/** Sums percentages without binary noise deciding a threshold: 33.3 + 33.3 + 8.4 is 75, not 74.99999999999999 */
function totalPct(owners: readonly BeneficialOwner[]): number {
  return Math.round(owners.reduce((sum, owner) => sum + owner.ownership_pct, 0) * 1e6) / 1e6;
}

/** Every violation at once, so a caller can fix the input in one round trip */
function validate(input: RiskInput): { violations: Violation[]; incorporated: Date | undefined } {
  const violations: Violation[] = [];
  const add = (field: string, description: string) => violations.push({ field, description });
  const nowValid = input.now instanceof Date && !Number.isNaN(input.now.getTime());
  if (!nowValid) add("now", "must be a valid Date");
  if (!COUNTRY_FORMAT.test(input.country)) add("country", "must be two upper-case letters (ISO 3166-1 alpha-2)");
  if (input.industry_code !== null && !INDUSTRY_FORMAT.test(input.industry_code)) {
    add("industry_code", "must be a NAICS code of 2 to 6 digits, or null");
  }

  let incorporated: Date | undefined;
  if (input.incorporation_date !== undefined && input.incorporation_date !== null) {
    incorporated = parseIncorporationDate(input.incorporation_date);
    if (incorporated === undefined) add("incorporation_date", "must be a calendar date YYYY-MM-DD or a valid Date");
    else if (nowValid && incorporated.getTime() > input.now.getTime()) add("incorporation_date", "is in the future");
  }

  const ownership = input.ownership ?? {};
  const layers = ownership.ownership_layers;
  if (layers !== undefined && !(Number.isInteger(layers) && layers >= 0)) {
    add("ownership.ownership_layers", "must be a non-negative integer");
  }
  const owners = ownership.beneficial_owners ?? [];
  owners.forEach((owner, i) => {
    const field = `ownership.beneficial_owners[${i}]`;
    if (typeof owner.name !== "string" || owner.name.trim() === "") add(`${field}.name`, "must not be empty");
    if (!Number.isFinite(owner.ownership_pct) || owner.ownership_pct < 0 || owner.ownership_pct > 100) {
      add(`${field}.ownership_pct`, "must be a number from 0 to 100");
    }
    if (owner.country !== undefined && !COUNTRY_FORMAT.test(owner.country)) {
      add(`${field}.country`, "must be two upper-case letters (ISO 3166-1 alpha-2)");
    }
  });
  if (violations.length === 0 && totalPct(owners) > 100) {
    add("ownership.beneficial_owners", "ownership_pct of all beneficial owners must not total more than 100");
  }
  return { violations, incorporated };
}

const listed = (list: readonly Jurisdiction[], code: string) => list.find((j) => j.code === code);

function factor(id: keyof typeof RISK_POINTS, reason: string): RiskFactor {
  return { factor: id, points: RISK_POINTS[id], reason };
}

function countryFactor(country: string): RiskFactor | undefined {
  // One country factor only, the highest category, so a grey-listed secrecy jurisdiction is not counted twice.
  const asOf = `FATF, ${FATF_LISTS_AS_OF.date}`;
  const black = listed(FATF_CALL_FOR_ACTION, country);
  if (black) return factor("country_fatf_call_for_action", `${country} (${black.name}) is a high-risk jurisdiction subject to a call for action (${asOf})`);
  const grey = listed(FATF_INCREASED_MONITORING, country);
  if (grey) return factor("country_fatf_increased_monitoring", `${country} (${grey.name}) is under increased monitoring (${asOf})`);
  const secrecy = listed(SECRECY_JURISDICTIONS, country);
  if (secrecy) return factor("country_secrecy_jurisdiction", `${country} (${secrecy.name}) is on the secrecy/offshore jurisdiction list`);
  if (!ISO_3166_ALPHA2.has(country)) return factor("country_unknown", `${country} is not an assigned ISO 3166-1 country code`);
  return undefined;
}

/** The entry with the longest prefix of `code`, so a 6-digit code inherits its 4-digit industry's risk */
function industryRiskOf(code: string): IndustryRisk | undefined {
  for (let length = code.length; length >= 2; length--) {
    const entry = INDUSTRY_RISK.find((risk) => risk.code === code.slice(0, length));
    if (entry) return entry;
  }
  return undefined;
}

function industryFactor(code: string | null): RiskFactor | undefined {
  if (code === null || code === UNCLASSIFIED_CODE) return factor("industry_unclassified", "the industry is not classified");
  const risk = industryRiskOf(code);
  if (risk === undefined) return undefined;
  return { factor: "industry_risk", points: risk.points, reason: `NAICS ${code} is a higher-risk industry (${risk.category})` };
}

function addUtcYears(date: Date, years: number): Date {
  // A 29 February anniversary falls on 1 March in common years (Date.UTC rolls the day over).
  return new Date(Date.UTC(date.getUTCFullYear() + years, date.getUTCMonth(), date.getUTCDate(),
    date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()));
}

function ageFactor(incorporated: Date | undefined, now: Date): RiskFactor | undefined {
  if (incorporated === undefined) return factor("incorporation_date_missing", "no incorporation date was given");
  const day = incorporated.toISOString().slice(0, 10);
  if (now < addUtcYears(incorporated, 1)) return factor("company_age_under_1_year", `incorporated ${day}, less than 1 year ago`);
  if (now < addUtcYears(incorporated, 3)) return factor("company_age_1_to_3_years", `incorporated ${day}, 1 to 3 years ago`);
  return undefined;
}

function ownershipFactors(ownership: Ownership): RiskFactor[] {
  const factors: RiskFactor[] = [];
  const owners = ownership.beneficial_owners ?? [];
  if (owners.length === 0) {
    factors.push(factor("beneficial_owners_missing", "no beneficial owners were disclosed"));
  } else {
    const total = totalPct(owners);
    if (total < MIN_DISCLOSED_OWNERSHIP_PCT) {
      factors.push(factor("ownership_undisclosed", `disclosed beneficial owners hold ${total}%, less than ${MIN_DISCLOSED_OWNERSHIP_PCT}%`));
    }
  }
  const layers = ownership.ownership_layers ?? 0;
  if (layers > MAX_OWNERSHIP_LAYERS) {
    factors.push(factor("ownership_layers", `${layers} ownership layers, more than ${MAX_OWNERSHIP_LAYERS}`));
  }
  if (ownership.nominee_shareholders === true) factors.push(factor("nominee_shareholders", "nominee shareholders are used"));
  const peps = owners.filter((owner) => owner.pep === true).length;
  if (peps > 0) factors.push(factor("pep_owner", `${peps} of ${owners.length} beneficial owners are politically exposed persons`));

  // Country codes, not names: reasons end up in logs and audit trails, owners' names must not.
  const codesIn = (list: readonly Jurisdiction[]) =>
    [...new Set(owners.flatMap((o) => (o.country !== undefined && listed(list, o.country) ? [o.country] : [])))].sort();
  const black = codesIn(FATF_CALL_FOR_ACTION);
  const grey = codesIn(FATF_INCREASED_MONITORING);
  if (black.length > 0) {
    factors.push(factor("owner_in_call_for_action_country", `beneficial owners in FATF call-for-action jurisdictions: ${black.join(", ")}`));
  } else if (grey.length > 0) {
    factors.push(factor("owner_in_increased_monitoring_country", `beneficial owners in FATF increased-monitoring jurisdictions: ${grey.join(", ")}`));
  }
  return factors;
}

export function riskLevel(score: number): RiskLevel {
  let level: RiskLevel = "low";
  for (const threshold of RISK_LEVEL_MINIMUMS) if (score >= threshold.min) level = threshold.level;
  return level;
}

/**
 * Scores a business's KYB risk from the tables in `risk-tables.ts`. Pure and deterministic: `now` is an input.
 * The factors explain the score exactly: their points add up to it unless the sum exceeds 100, where it is capped.
 * Invalid input (malformed country, percentages out of range, a future incorporation date, ...) yields
 * `{ ok: false, violations }` listing every problem.
 */
export function assessRisk(input: RiskInput): Result<RiskAssessment> {
  const { violations, incorporated } = validate(input);
  if (violations.length > 0) return { ok: false, violations };

  const factors = [
    countryFactor(input.country),
    industryFactor(input.industry_code),
    ageFactor(incorporated, input.now),
    ...ownershipFactors(input.ownership ?? {}),
  ].filter((f): f is RiskFactor => f !== undefined);
  const score = Math.min(100, factors.reduce((sum, f) => sum + f.points, 0));
  return { ok: true, value: { score, level: riskLevel(score), factors } };
}
