/**
 * The data behind `assessRisk`, kept apart from the logic so `docs/kyb-rules.md` can be written from it and
 * reviewed by compliance without reading code (a test fails when an entry is missing from the docs).
 *
 * The FATF lists change three times a year (February, June and October plenaries). Updating them is a data
 * change here plus `FATF_LISTS_AS_OF` and the docs; scores of stored businesses are not recomputed by it.
 */

export interface Jurisdiction {
  /** ISO 3166-1 alpha-2 */
  readonly code: string;
  readonly name: string;
}

/** The FATF publications the two FATF lists below encode */
export const FATF_LISTS_AS_OF = {
  date: "2026-06",
  publication:
    "FATF 'High-Risk Jurisdictions subject to a Call for Action' and 'Jurisdictions under Increased Monitoring', June 2026 (plenary of 17-19 June 2026)",
  source: "https://www.fatf-gafi.org/en/topics/high-risk-and-other-monitored-jurisdictions.html",
} as const;

/** FATF "black list": call for action (countermeasures for KP and IR, enhanced due diligence for MM) */
export const FATF_CALL_FOR_ACTION: readonly Jurisdiction[] = [
  { code: "KP", name: "Democratic People's Republic of Korea" },
  { code: "IR", name: "Iran" },
  { code: "MM", name: "Myanmar" },
];

/** FATF "grey list": jurisdictions under increased monitoring */
export const FATF_INCREASED_MONITORING: readonly Jurisdiction[] = [
  { code: "AO", name: "Angola" },
  { code: "BO", name: "Bolivia" },
  { code: "BA", name: "Bosnia and Herzegovina" },
  { code: "BG", name: "Bulgaria" },
  { code: "CM", name: "Cameroon" },
  { code: "CI", name: "Côte d'Ivoire" },
  { code: "CD", name: "Democratic Republic of the Congo" },
  { code: "HT", name: "Haiti" },
  { code: "IQ", name: "Iraq" },
  { code: "KE", name: "Kenya" },
  { code: "KW", name: "Kuwait" },
  { code: "LA", name: "Lao PDR" },
  { code: "LB", name: "Lebanon" },
  { code: "MC", name: "Monaco" },
  { code: "NP", name: "Nepal" },
  { code: "PG", name: "Papua New Guinea" },
  { code: "SS", name: "South Sudan" },
  { code: "SY", name: "Syria" },
  { code: "VE", name: "Venezuela" },
  { code: "VN", name: "Vietnam" },
  { code: "VG", name: "Virgin Islands (UK)" },
  { code: "YE", name: "Yemen" },
];

/**
 * Secrecy / offshore jurisdictions: a tenantmesh policy list, NOT an official FATF or EU list. Chosen for
 * corporate-secrecy features common in shell structures (nominee directors, no public register of owners);
 * review with compliance before relying on it. A code on a FATF list scores in that higher category instead.
 */
export const SECRECY_JURISDICTIONS: readonly Jurisdiction[] = [
  { code: "AI", name: "Anguilla" },
  { code: "BS", name: "Bahamas" },
  { code: "BZ", name: "Belize" },
  { code: "BM", name: "Bermuda" },
  { code: "KY", name: "Cayman Islands" },
  { code: "MH", name: "Marshall Islands" },
  { code: "PA", name: "Panama" },
  { code: "WS", name: "Samoa" },
  { code: "SC", name: "Seychelles" },
  { code: "VU", name: "Vanuatu" },
  { code: "VG", name: "Virgin Islands (UK)" },
];

/** Points of every factor except `industry_risk`, whose points come from `INDUSTRY_RISK` */
export const RISK_POINTS = {
  country_fatf_call_for_action: 50, // high on its own: the FATF asks for countermeasures or enhanced due diligence
  country_fatf_increased_monitoring: 25, // medium on its own
  country_secrecy_jurisdiction: 20,
  country_unknown: 15, // not an assigned ISO code: the country cannot be assessed
  industry_unclassified: 10, // no industry ("99" or none): the industry cannot be assessed
  incorporation_date_missing: 10, // as much as a 1-3 year old company: unknown age is not better than young
  company_age_under_1_year: 20,
  company_age_1_to_3_years: 10,
  beneficial_owners_missing: 25,
  ownership_undisclosed: 15,
  ownership_layers: 15,
  nominee_shareholders: 15,
  pep_owner: 15,
  owner_in_call_for_action_country: 20,
  owner_in_increased_monitoring_country: 10,
} as const satisfies Record<string, number>;

/** Disclosed beneficial ownership below this share (percent) leaves too much of the company unexplained */
export const MIN_DISCLOSED_OWNERSHIP_PCT = 75;

/** More ownership layers (legal entities between the business and its beneficial owners) than this is complex */
export const MAX_OWNERSHIP_LAYERS = 3;

export interface IndustryRisk {
  /** NAICS prefix (2-6 digits); an industry code matches its longest listed prefix */
  readonly code: string;
  readonly category: string;
  readonly points: number;
}

/**
 * Industries with inherent money-laundering, terrorist-financing, sanctions or corruption exposure. Points apply
 * to every code under the prefix: e.g. all of NAICS 5239 scores as virtual assets, because that is where
 * `classifyBusiness` puts them, although 5239 also holds ordinary portfolio managers.
 */
export const INDUSTRY_RISK: readonly IndustryRisk[] = [
  { code: "7132", category: "gambling", points: 25 },
  { code: "5239", category: "virtual assets / crypto", points: 25 },
  { code: "3329", category: "arms: small arms and ammunition", points: 20 },
  { code: "3364", category: "arms: aerospace and guided missiles (dual-use, export-controlled)", points: 20 },
  { code: "4239", category: "precious metals and stones dealing", points: 20 },
  { code: "5223", category: "money services: remittance, payments, check cashing", points: 20 },
  { code: "4583", category: "jewelry retail: high value, portable goods", points: 15 },
  { code: "4599", category: "art and antiques dealing", points: 15 },
  { code: "5231", category: "securities dealing and currency exchange", points: 15 },
  { code: "5222", category: "nondepository credit incl. pawnshops (cash-intensive)", points: 10 },
  { code: "5311", category: "real estate: lessors", points: 10 },
  { code: "5313", category: "real estate: agents and managers", points: 10 },
  { code: "4411", category: "car dealers: high value goods", points: 10 },
  { code: "7224", category: "cash-intensive: bars and nightclubs", points: 10 },
  { code: "7225", category: "cash-intensive: restaurants", points: 10 },
  { code: "4453", category: "cash-intensive: liquor retail", points: 10 },
  { code: "4571", category: "cash-intensive: gasoline stations", points: 10 },
  { code: "8111", category: "cash-intensive: car washes and repair", points: 10 },
  { code: "8123", category: "cash-intensive: laundries", points: 10 },
  { code: "8132", category: "charities: terrorist-financing abuse (FATF Recommendation 8)", points: 10 },
  { code: "2111", category: "extractive: oil and gas (corruption exposure)", points: 10 },
  { code: "2122", category: "extractive: metal ore mining (corruption exposure)", points: 10 },
  { code: "3122", category: "tobacco (illicit trade)", points: 10 },
];

export type RiskLevel = "low" | "medium" | "high" | "critical";

/** The lowest score of each level; a score has the highest level whose minimum it reaches */
export const RISK_LEVEL_MINIMUMS: readonly { readonly level: RiskLevel; readonly min: number }[] = [
  { level: "low", min: 0 },
  { level: "medium", min: 25 },
  { level: "high", min: 50 },
  { level: "critical", min: 75 },
];
