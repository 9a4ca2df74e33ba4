import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLASSIFICATION_RULES } from "./classification-rules.js";
import { classifyBusiness, normalizeTerm, UNCLASSIFIED } from "./classification.js";

const ruleOf = (name: string, description?: string) => classifyBusiness({ name, description }).matched_rule;

describe("the classification rule table", () => {
  it("has at least 30 rules with unique ids, NAICS 2- or 4-digit codes and titles", () => {
    expect(CLASSIFICATION_RULES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CLASSIFICATION_RULES.map((r) => r.id)).size).toBe(CLASSIFICATION_RULES.length);
    for (const rule of CLASSIFICATION_RULES) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.code).toMatch(/^(\d{2}|\d{4})$/);
      expect(rule.title.trim()).not.toBe("");
      expect(rule.terms.length).toBeGreaterThan(0);
    }
  });

  it("holds only normalised terms, each in exactly one rule", () => {
    const owner = new Map<string, string>();
    for (const rule of CLASSIFICATION_RULES) {
      for (const term of rule.terms) {
        expect(normalizeTerm(term), `${rule.id}: "${term}"`).toBe(term);
        expect(owner.get(term), `"${term}" is in ${owner.get(term)} and ${rule.id}`).toBeUndefined();
        owner.set(term, rule.id);
      }
    }
  });

  // Exhaustive: proves no term is shadowed by an equally long term of an earlier rule.
  it.each(CLASSIFICATION_RULES.flatMap((rule) => rule.terms.map((term) => [term, rule.id] as const)))(
    "classifies the term %j alone as %s",
    (term, id) => {
      expect(ruleOf(term)).toBe(id);
    },
  );

  it("is documented in docs/kyb-rules.md, one row per rule", () => {
    const docs = readFileSync(new URL("../../docs/kyb-rules.md", import.meta.url), "utf8");
    for (const rule of CLASSIFICATION_RULES) expect(docs).toContain(`| ${rule.id} | ${rule.code} | ${rule.title} |`);
  });
});

describe("classifyBusiness", () => {
  it.each([
    ["First National Bank", undefined, "bank", "5221"],
    ["Acme Software GmbH", undefined, "software-it-services", "5415"],
    ["Luigi's Pizzeria", undefined, "restaurant", "7225"],
    ["Oakwood Home Builder Ltd", undefined, "residential-construction", "2361"],
    ["Northwind Pharmaceuticals", undefined, "pharmaceutical", "3254"],
    ["Prime Real Estate Partners", undefined, "real-estate-services", "5313"],
    ["Swift Trucking LLC", undefined, "trucking", "4841"],
    ["Gulf Petroleum Corp", "Upstream exploration", "oil-gas", "2111"],
    ["Lucky Star", "Casino and poker rooms", "gambling", "7132"],
    ["CoinVault", "A cryptocurrency exchange", "virtual-assets", "5239"],
    ["Sendit", "Money transfer to 40 countries", "money-services", "5223"],
    ["Helios Arms", "Ammunition for sporting rifles", "small-arms-ammunition", "3329"],
    ["Kestrel Systems", "Guided missiles and aircraft parts", "aerospace-defence", "3364"],
    ["Aurum", "Gold bullion and precious metals", "precious-metals-stones", "4239"],
    ["Hope Trust", "A registered charity", "charity", "8132"],
    ["Acme Holdings", "Mining and quarrying", "mining", "21"],
  ])("classifies %j (%j) as %s %s", (name, description, id, code) => {
    const result = classifyBusiness({ name, description });
    expect(result.matched_rule).toBe(id);
    expect(result.industry_code).toBe(code);
    expect(result.industry_title).toBe(CLASSIFICATION_RULES.find((r) => r.id === id)?.title);
  });

  it.each([
    ["a two-word phrase over a word", "Joe's Food Truck", undefined, "special-food-services", ["food truck"]],
    ["a two-word phrase over a sector word", "Server Farm Inc", undefined, "hosting-data-processing", ["server farm"]],
    ["a phrase over a word of another rule", "Investment Bank of Zug", undefined, "securities-fx-brokerage", ["investment bank"]],
    ["a phrase in the description over a word in the name", "Quick Lube Oil", "Oil change and car wash", "auto-repair-car-wash", ["car wash", "oil change"]],
    ["a specific phrase over the sector catch-all", "Sunrise Residential Construction", undefined, "residential-construction", ["residential construction"]],
    ["a phrase over a word of the same first word", "Allied Insurance Brokerage", undefined, "insurance-agency", ["insurance brokerage"]],
    ["crypto mining over mining", "Hashco", "Bitcoin mining in Iceland", "virtual-assets", ["bitcoin", "bitcoin mining"]],
  ])("prefers %s: %j", (_what, name, description, id, terms) => {
    const result = classifyBusiness({ name, description });
    expect(result.matched_rule).toBe(id);
    expect(result.matched_terms).toEqual(terms);
  });

  it.each([
    ["Crypto Bank", "virtual-assets"],
    ["Bank of Crypto", "virtual-assets"],
    ["Casino Restaurant", "gambling"],
    ["Software Consulting", "software-it-services"],
  ])("breaks a tie of equally long terms by rule order: %j is %s", (name, id) => {
    const result = classifyBusiness({ name });
    expect(result.matched_rule).toBe(id);
    expect(result.confidence).toBe(0.35); // 0.6 for a word, less 0.25 for the contest
  });

  it.each([
    ["SWIFT TRUCKING", "trucking"],
    ["sWiFt TrUcKiNg", "trucking"],
    ["Café de Flore", "restaurant"],
    ["LES CAFÉS", "restaurant"],
    ["CASINÒ DI VENEZIA", "gambling"],
    ["Élan Pharmaceutiçals", "pharmaceutical"],
    ["Élan Pharmacéuticals", "pharmaceutical"],
    ["Crème Real-Estate", "real-estate-services"],
    ["Öl & Gas AG", undefined],
    ["Acme Oil&Gas", "oil-gas"],
    ["Straße Logistics", "freight-arrangement"],
    ["Banco Nación", undefined],
  ])("ignores case, diacritics and punctuation: %j is %s", (name, id) => {
    expect(ruleOf(name)).toBe(id ?? null);
  });

  it.each([
    ["Bankside Consulting", "management-consulting"],
    ["The Cafeteria", null],
    ["Oilers Hockey Club", null],
    ["Pubmed Analytics", null],
    ["Trucks R Us", "trucking"],
  ])("matches whole words only: %j is %s", (name, id) => {
    expect(ruleOf(name)).toBe(id);
  });

  it("does not match a phrase across punctuation or across name and description", () => {
    expect(classifyBusiness({ name: "Acme", description: "Refined oil. And gas canisters" }).matched_terms).toEqual(["oil"]);
    const split = classifyBusiness({ name: "Acme Food", description: "Truck rentals" });
    expect([split.matched_rule, split.matched_terms]).toEqual(["trucking", ["truck"]]);
  });

  it.each([
    ["", undefined],
    ["   ", null],
    ["Acme Holdings", "General trading and investments"],
    ["Straße Bäckerei GmbH", undefined],
    ["株式会社テスト", "ソフトウェア"],
  ])("falls back to Unclassified for %j (%j)", (name, description) => {
    expect(classifyBusiness({ name, description })).toEqual({
      industry_code: UNCLASSIFIED.code,
      industry_title: "Unclassified",
      confidence: 0,
      matched_rule: null,
      matched_terms: [],
    });
  });

  it.each([
    ["one word", { name: "Swift Trucking" }, 0.6],
    ["a two-word phrase", { name: "Joe's Food Truck" }, 0.8],
    ["a three-word phrase", { name: "Gulf Oil and Gas" }, 0.95],
    ["a three-word phrase alone", { name: "Acme Mobile Network Operator" }, 0.9],
    ["two words of one rule", { name: "Crypto", description: "Blockchain" }, 0.65],
    ["six words of one rule", { name: "Crypto Bitcoin Ethereum Blockchain Stablecoin Vasp" }, 0.85],
    ["a long phrase and many words, capped", { name: "Acme", description: "oil and gas, crude oil, natural gas" }, 0.95],
    ["a contested word", { name: "Crypto Bank" }, 0.35],
  ])("scores confidence for %s", (_what, input, confidence) => {
    expect(classifyBusiness(input).confidence).toBe(confidence);
  });

  it("is deterministic: same input, same output, whatever was classified before", () => {
    const inputs = [
      { name: "Crypto Bank", description: "Bitcoin custody and banking" },
      { name: "Gulf Oil & Gas", description: "crude oil, natural gas" },
      { name: "Acme" },
    ];
    const first = inputs.map(classifyBusiness);
    const again = [...inputs].reverse().map(classifyBusiness).reverse();
    expect(again).toEqual(first);
    expect(inputs.map(classifyBusiness)).toEqual(first);
  });

  it("lists matched terms in rule order, not text order", () => {
    const a = classifyBusiness({ name: "Acme", description: "natural gas, crude oil, petroleum" });
    const b = classifyBusiness({ name: "Acme", description: "petroleum, crude oil, natural gas" });
    expect(a.matched_terms).toEqual(["oil", "crude oil", "natural gas", "petroleum"]);
    expect(b).toEqual(a);
  });
});
