import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ISO_3166_ALPHA2 } from "./iso-3166.js";
import { assessRisk, type RiskAssessment, type RiskInput, riskLevel } from "./risk.js";
import {
  FATF_CALL_FOR_ACTION,
  FATF_INCREASED_MONITORING,
  FATF_LISTS_AS_OF,
  INDUSTRY_RISK,
  RISK_LEVEL_MINIMUMS,
  RISK_POINTS,
  SECRECY_JURISDICTIONS,
} from "./risk-tables.js";

const now = new Date("2026-11-29T12:00:00Z");

/** A business that scores 0: every case below changes one thing about it */
const clean: RiskInput = {
  country: "DE",
  industry_code: "5415",
  incorporation_date: "2015-06-01",
  ownership: {
    beneficial_owners: [
      { name: "Owner One", ownership_pct: 60, country: "DE" },
      { name: "Owner Two", ownership_pct: 40 },
    ],
    ownership_layers: 1,
    nominee_shareholders: false,
  },
  now,
};
const owners = (...list: { ownership_pct: number; country?: string; pep?: boolean }[]) =>
  list.map((owner, i) => ({ name: `Owner ${i + 1}`, ...owner }));

function assessed(input: RiskInput): RiskAssessment {
  const result = assessRisk(input);
  if (!result.ok) throw new Error(`unexpected violations: ${JSON.stringify(result.violations)}`);
  return result.value;
}

describe("assessRisk, one factor at a time", () => {
  it("scores the clean business 0, low, with no factors", () => {
    expect(assessed(clean)).toEqual({ score: 0, level: "low", factors: [] });
  });

  it.each<[string, Partial<RiskInput>, string, number]>([
    ["a call-for-action country (KP)", { country: "KP" }, "country_fatf_call_for_action", 50],
    ["a call-for-action country (IR)", { country: "IR" }, "country_fatf_call_for_action", 50],
    ["a call-for-action country (MM)", { country: "MM" }, "country_fatf_call_for_action", 50],
    ["a grey-list country (KE)", { country: "KE" }, "country_fatf_increased_monitoring", 25],
    ["a grey-list secrecy jurisdiction, counted once (VG)", { country: "VG" }, "country_fatf_increased_monitoring", 25],
    ["a secrecy jurisdiction (KY)", { country: "KY" }, "country_secrecy_jurisdiction", 20],
    ["a secrecy jurisdiction (PA)", { country: "PA" }, "country_secrecy_jurisdiction", 20],
    ["a user-assigned country code (XK)", { country: "XK" }, "country_unknown", 15],
    ["an unassigned country code (ZZ)", { country: "ZZ" }, "country_unknown", 15],
    ["gambling", { industry_code: "7132" }, "industry_risk", 25],
    ["gambling, 6-digit code", { industry_code: "713210" }, "industry_risk", 25],
    ["crypto", { industry_code: "5239" }, "industry_risk", 25],
    ["arms (3329)", { industry_code: "3329" }, "industry_risk", 20],
    ["arms (3364)", { industry_code: "336414" }, "industry_risk", 20],
    ["precious metals", { industry_code: "4239" }, "industry_risk", 20],
    ["money services", { industry_code: "5223" }, "industry_risk", 20],
    ["cash-intensive restaurants", { industry_code: "7225" }, "industry_risk", 10],
    ["no industry", { industry_code: null }, "industry_unclassified", 10],
    ["the unclassified industry", { industry_code: "99" }, "industry_unclassified", 10],
    ["incorporation today", { incorporation_date: "2026-11-29" }, "company_age_under_1_year", 20],
    ["incorporation a day short of 1 year", { incorporation_date: "2025-11-30" }, "company_age_under_1_year", 20],
    ["incorporation exactly 1 year ago", { incorporation_date: "2025-11-29" }, "company_age_1_to_3_years", 10],
    ["incorporation a day short of 3 years", { incorporation_date: "2023-11-30" }, "company_age_1_to_3_years", 10],
    ["incorporation as a Date", { incorporation_date: new Date("2026-05-01T00:00:00Z") }, "company_age_under_1_year", 20],
    ["no incorporation date", { incorporation_date: undefined }, "incorporation_date_missing", 10],
    ["a null incorporation date", { incorporation_date: null }, "incorporation_date_missing", 10],
    ["no ownership", { ownership: undefined }, "beneficial_owners_missing", 25],
    ["no beneficial owners", { ownership: { beneficial_owners: [] } }, "beneficial_owners_missing", 25],
    ["owners holding 74.9%", { ownership: { beneficial_owners: owners({ ownership_pct: 50 }, { ownership_pct: 24.9 }) } }, "ownership_undisclosed", 15],
    ["4 ownership layers", { ownership: { ...clean.ownership, ownership_layers: 4 } }, "ownership_layers", 15],
    ["nominee shareholders", { ownership: { ...clean.ownership, nominee_shareholders: true } }, "nominee_shareholders", 15],
    ["a PEP owner", { ownership: { beneficial_owners: owners({ ownership_pct: 90, pep: true }) } }, "pep_owner", 15],
    ["an owner in IR", { ownership: { beneficial_owners: owners({ ownership_pct: 80, country: "IR" }) } }, "owner_in_call_for_action_country", 20],
    ["owners in IR and KE, the higher only", { ownership: { beneficial_owners: owners({ ownership_pct: 50, country: "KE" }, { ownership_pct: 50, country: "IR" }) } }, "owner_in_call_for_action_country", 20],
    ["an owner in KE", { ownership: { beneficial_owners: owners({ ownership_pct: 80, country: "KE" }) } }, "owner_in_increased_monitoring_country", 10],
  ])("scores %s", (_what, change, factor, points) => {
    const result = assessed({ ...clean, ...change });
    expect(result.factors.map((f) => [f.factor, f.points])).toEqual([[factor, points]]);
    expect(result.score).toBe(points);
  });

  it.each<[string, Partial<RiskInput>]>([
    ["a low-risk industry group", { industry_code: "5415" }],
    ["a low-risk sector", { industry_code: "54" }],
    ["incorporation exactly 3 years ago", { incorporation_date: "2023-11-29" }],
    ["owners holding exactly 75%", { ownership: { beneficial_owners: owners({ ownership_pct: 75 }) } }],
    ["owners holding 33.3 + 33.3 + 8.4 = 75%", { ownership: { beneficial_owners: owners({ ownership_pct: 33.3 }, { ownership_pct: 33.3 }, { ownership_pct: 8.4 }) } }],
    ["3 ownership layers", { ownership: { ...clean.ownership, ownership_layers: 3 } }],
    ["an owner in a secrecy jurisdiction", { ownership: { beneficial_owners: owners({ ownership_pct: 100, country: "KY" }) } }],
  ])("adds nothing for %s", (_what, change) => {
    expect(assessed({ ...clean, ...change })).toEqual({ score: 0, level: "low", factors: [] });
  });

  it("ages a 29 February incorporation to 1 March in a common year", () => {
    const leap = { ...clean, incorporation_date: "2024-02-29" };
    expect(assessed({ ...leap, now: new Date("2025-02-28T23:59:59Z") }).factors[0]?.factor).toBe("company_age_under_1_year");
    expect(assessed({ ...leap, now: new Date("2025-03-01T00:00:00Z") }).factors[0]?.factor).toBe("company_age_1_to_3_years");
  });
});

describe("assessRisk, factors together", () => {
  it("adds factors in a fixed order and their points make the score (hand-computed)", () => {
    const result = assessed({
      country: "KE", // 25
      industry_code: "7225", // 10
      incorporation_date: "2024-06-01", // 2.5 years: 10
      ownership: { beneficial_owners: owners({ ownership_pct: 50, pep: true }) }, // 15 + 15
      now,
    });
    expect(result.factors.map((f) => f.factor)).toEqual([
      "country_fatf_increased_monitoring", "industry_risk", "company_age_1_to_3_years", "ownership_undisclosed", "pep_owner",
    ]);
    expect(result).toMatchObject({ score: 75, level: "critical" });
  });

  it("caps the score at 100 and still lists every factor", () => {
    const result = assessed({
      country: "IR", industry_code: "5239", incorporation_date: "2026-10-01", now,
      ownership: { beneficial_owners: owners({ ownership_pct: 10, pep: true, country: "KP" }), ownership_layers: 5, nominee_shareholders: true },
    });
    expect(result.factors.reduce((sum, f) => sum + f.points, 0)).toBe(50 + 25 + 20 + 15 + 15 + 15 + 15 + 20);
    expect(result).toMatchObject({ score: 100, level: "critical" });
  });

  it.each<[Partial<RiskInput>, number, string]>([
    [{}, 0, "low"],
    [{ industry_code: "7225", incorporation_date: null }, 20, "low"],
    [{ country: "KE" }, 25, "medium"],
    [{ country: "KY", industry_code: "7132" }, 45, "medium"],
    [{ country: "MM" }, 50, "high"],
    [{ country: "KP", industry_code: "7225", incorporation_date: "2025-01-01" }, 70, "high"],
    [{ country: "KP", ownership: undefined }, 75, "critical"],
  ])("explains the score exactly: %j scores %i, %s", (change, score, level) => {
    const result = assessed({ ...clean, ...change });
    expect(result.factors.reduce((sum, f) => sum + f.points, 0)).toBe(score);
    expect(result).toMatchObject({ score, level });
  });

  it.each([
    [0, "low"], [24, "low"], [25, "medium"], [49, "medium"], [50, "high"], [74, "high"], [75, "critical"], [100, "critical"],
  ])("maps score %i to level %s", (score, level) => {
    expect(riskLevel(score)).toBe(level);
  });

  it("is deterministic and leaves its input alone", () => {
    const input = Object.freeze({ ...clean, country: "KE", ownership: Object.freeze({ beneficial_owners: Object.freeze(owners({ ownership_pct: 20, pep: true })) }) });
    expect(assessRisk(input)).toEqual(assessRisk(input));
  });

  it("never puts an owner's name in a reason", () => {
    const result = assessed({ ...clean, ownership: { beneficial_owners: [{ name: "Jane Secret", ownership_pct: 10, pep: true, country: "IR" }] } });
    expect(result.factors).toHaveLength(3);
    for (const f of result.factors) expect(f.reason).not.toContain("Jane");
  });
});

describe("assessRisk with invalid input", () => {
  const pep = (pct: number, extra: object = {}) => ({ ownership: { beneficial_owners: [{ name: "A", ownership_pct: pct, ...extra }] } });
  it.each<[string, Partial<RiskInput>, string]>([
    ["a lower-case country", { country: "de" }, "country"],
    ["a 3-letter country", { country: "DEU" }, "country"],
    ["an empty country", { country: "" }, "country"],
    ["an industry code with letters", { industry_code: "54A1" }, "industry_code"],
    ["a 1-digit industry code", { industry_code: "5" }, "industry_code"],
    ["a 7-digit industry code", { industry_code: "5415111" }, "industry_code"],
    ["an impossible date", { incorporation_date: "2023-02-30" }, "incorporation_date"],
    ["a month 13", { incorporation_date: "2020-13-01" }, "incorporation_date"],
    ["a non-ISO date", { incorporation_date: "01/02/2020" }, "incorporation_date"],
    ["an invalid Date", { incorporation_date: new Date(Number.NaN) }, "incorporation_date"],
    ["a future date", { incorporation_date: "2026-11-30" }, "incorporation_date"],
    ["a negative ownership_pct", pep(-1), "ownership.beneficial_owners[0].ownership_pct"],
    ["ownership_pct above 100", pep(100.5), "ownership.beneficial_owners[0].ownership_pct"],
    ["ownership_pct NaN", pep(Number.NaN), "ownership.beneficial_owners[0].ownership_pct"],
    ["an owner's lower-case country", pep(50, { country: "ir" }), "ownership.beneficial_owners[0].country"],
    ["an owner without a name", { ownership: { beneficial_owners: [{ name: " ", ownership_pct: 50 }] } }, "ownership.beneficial_owners[0].name"],
    ["owners holding more than 100%", { ownership: { beneficial_owners: owners({ ownership_pct: 60 }, { ownership_pct: 41 }) } }, "ownership.beneficial_owners"],
    ["negative layers", { ownership: { ...clean.ownership, ownership_layers: -1 } }, "ownership.ownership_layers"],
    ["fractional layers", { ownership: { ...clean.ownership, ownership_layers: 1.5 } }, "ownership.ownership_layers"],
    ["an invalid now", { now: new Date("not a date") }, "now"],
  ])("returns a violation for %s, without throwing", (_what, change, field) => {
    const result = assessRisk({ ...clean, ...change });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.violations.map((v) => v.field)).toEqual([field]);
  });

  it("reports every violation at once", () => {
    const result = assessRisk({ ...clean, country: "de", industry_code: "x", incorporation_date: "2027-01-01", ...pep(101) });
    expect(result.ok ? [] : result.violations.map((v) => v.field)).toEqual([
      "country", "industry_code", "incorporation_date", "ownership.beneficial_owners[0].ownership_pct",
    ]);
  });
});

describe("the risk tables", () => {
  const lists = { FATF_CALL_FOR_ACTION, FATF_INCREASED_MONITORING, SECRECY_JURISDICTIONS };

  it("hold the 249 assigned ISO 3166-1 alpha-2 codes", () => {
    expect(ISO_3166_ALPHA2.size).toBe(249);
    for (const code of ISO_3166_ALPHA2) expect(code).toMatch(/^[A-Z]{2}$/);
  });

  it("list only assigned country codes, each once, and no country on both FATF lists", () => {
    for (const list of Object.values(lists)) {
      expect(new Set(list.map((j) => j.code)).size).toBe(list.length);
      for (const j of list) expect(ISO_3166_ALPHA2.has(j.code), j.code).toBe(true);
    }
    const black = new Set(FATF_CALL_FOR_ACTION.map((j) => j.code));
    expect(FATF_INCREASED_MONITORING.filter((j) => black.has(j.code))).toEqual([]);
  });

  it("have unique industry prefixes and positive integer points", () => {
    expect(new Set(INDUSTRY_RISK.map((r) => r.code)).size).toBe(INDUSTRY_RISK.length);
    for (const r of INDUSTRY_RISK) expect(r.code).toMatch(/^\d{2,6}$/);
    for (const points of [...Object.values(RISK_POINTS), ...INDUSTRY_RISK.map((r) => r.points)]) {
      expect(Number.isInteger(points) && points > 0).toBe(true);
    }
    expect(RISK_LEVEL_MINIMUMS.map((l) => l.min)).toEqual([0, 25, 50, 75]);
  });

  it("are documented in docs/kyb-rules.md", () => {
    const docs = readFileSync(new URL("../../docs/kyb-rules.md", import.meta.url), "utf8");
    expect(docs).toContain(FATF_LISTS_AS_OF.date);
    for (const [name, list] of Object.entries(lists)) {
      for (const j of list) expect(docs, `${name} ${j.code}`).toContain(`| ${j.code} | ${j.name} |`);
    }
    for (const [factor, points] of Object.entries(RISK_POINTS)) expect(docs).toContain(`| \`${factor}\` | ${points} |`);
    for (const r of INDUSTRY_RISK) expect(docs).toContain(`| ${r.code} | ${r.category} | ${r.points} |`);
  });
});
