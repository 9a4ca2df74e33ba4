import { CLASSIFICATION_RULES, type ClassificationRule } from "./classification-rules.js";

export interface ClassificationInput {
  readonly name: string;
  readonly description?: string | null;
}

export interface Classification {
  /** NAICS 2022 code (2 or 4 digits), or "99" when no rule matched */
  readonly industry_code: string;
  readonly industry_title: string;
  /** 0 for the fallback; otherwise in (0, 0.95]: keyword rules never claim certainty */
  readonly confidence: number;
  /** The id of the winning rule; null for the fallback */
  readonly matched_rule: string | null;
  /** The winning rule's terms found in the input, in the rule's own order */
  readonly matched_terms: readonly string[];
}

/** The result when no rule matches; "99" is the code statistical agencies (e.g. the US BLS) use for unclassified */
export const UNCLASSIFIED = { code: "99", title: "Unclassified" } as const;

/**
 * Letters that Unicode decomposition leaves alone but a reader treats as plain Latin letters. Only letters a
 * business name plausibly uses; other scripts stay as they are and simply match no rule.
 */
const LETTER_FOLDS: Readonly<Record<string, string>> = {
  ß: "ss", æ: "ae", œ: "oe", ø: "o", đ: "d", ð: "d", þ: "th", ł: "l", ı: "i",
};

/** Punctuation that ends a phrase: "oil. And gas" must not match "oil and gas" */
const SEGMENT_BREAK = /[.,;:!?()[\]{}"\n\r]+/u;

/**
 * Splits text into segments of normalised words: diacritics removed (NFKD, then combining marks dropped), a few
 * letters folded, lower-cased without locale (the result must not depend on the host), "&" read as "and",
 * apostrophes removed ("McDonald's" → "mcdonalds"), every other non-letter, non-digit a word separator.
 */
export function normalizedSegments(text: string): string[][] {
  const folded = text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[ßæœøđðþłı]/gu, (c) => LETTER_FOLDS[c] ?? c)
    .replace(/&/g, " and ")
    .replace(/['’`]/g, "");
  return folded
    .split(SEGMENT_BREAK)
    .map((segment) => segment.split(/[^\p{L}\p{N}]+/u).filter((word) => word !== ""))
    .filter((words) => words.length > 0);
}

/** The form a rule term must already have: its normalised words joined by single spaces */
export function normalizeTerm(term: string): string {
  return normalizedSegments(term).flat().join(" ");
}

interface CompiledRule {
  readonly rule: ClassificationRule;
  readonly phrases: readonly (readonly string[])[];
}

// Derived once from constant data; no state, no registration.
const compiledRules: readonly CompiledRule[] = CLASSIFICATION_RULES.map((rule) => ({
  rule,
  phrases: rule.terms.map((term) => term.split(" ")),
}));

function containsPhrase(segment: readonly string[], phrase: readonly string[]): boolean {
  outer: for (let start = 0; start + phrase.length <= segment.length; start++) {
    for (let i = 0; i < phrase.length; i++) if (segment[start + i] !== phrase[i]) continue outer;
    return true;
  }
  return false;
}

interface Candidate {
  readonly rule: ClassificationRule;
  /** Words in the longest matched term: the precedence key */
  readonly longest: number;
  readonly terms: readonly string[];
}

/** Confidence in hundredths, so the reported number is an exact two-decimal value on every platform */
function confidenceHundredths(winner: Candidate, contested: boolean): number {
  const base = winner.longest >= 3 ? 90 : winner.longest === 2 ? 80 : 60;
  // Each further distinct term of the same rule corroborates it.
  const corroborated = Math.min(95, base + 5 * (winner.terms.length - 1));
  // Another rule matched an equally long phrase and lost only on table order: say so.
  return contested ? corroborated - 25 : corroborated;
}

/**
 * Classifies a business into a NAICS industry from its name and description with the rule table
 * `CLASSIFICATION_RULES`. Deterministic: the same input always gives the same output, on any host.
 *
 * A term matches as whole consecutive words within one segment of the name or the description, after both are
 * normalised (case, diacritics, punctuation). Among the rules with a matching term, the rule whose longest
 * matching term has the most words wins ("food truck" beats "truck", "server farm" beats "farm"); a tie goes to
 * the rule earlier in the table. With no match the result is `UNCLASSIFIED` with confidence 0.
 */
export function classifyBusiness(input: ClassificationInput): Classification {
  const segments = [...normalizedSegments(input.name), ...normalizedSegments(input.description ?? "")];
  const words = new Set(segments.flat());

  const candidates: Candidate[] = [];
  for (const { rule, phrases } of compiledRules) {
    const terms: string[] = [];
    let longest = 0;
    phrases.forEach((phrase, i) => {
      if (!words.has(phrase[0] ?? "")) return; // cheap pre-check before the phrase scan
      if (!segments.some((segment) => containsPhrase(segment, phrase))) return;
      terms.push(rule.terms[i] ?? phrase.join(" "));
      longest = Math.max(longest, phrase.length);
    });
    if (terms.length > 0) candidates.push({ rule, longest, terms });
  }

  // Candidates are in table order; only a strictly longer phrase displaces the current winner.
  let winner: Candidate | undefined;
  for (const candidate of candidates) if (winner === undefined || candidate.longest > winner.longest) winner = candidate;
  if (winner === undefined) {
    return { industry_code: UNCLASSIFIED.code, industry_title: UNCLASSIFIED.title, confidence: 0, matched_rule: null, matched_terms: [] };
  }
  const best = winner;
  const contested = candidates.some((c) => c !== best && c.longest === best.longest);
  return {
    industry_code: best.rule.code,
    industry_title: best.rule.title,
    confidence: confidenceHundredths(best, contested) / 100,
    matched_rule: best.rule.id,
    matched_terms: best.terms,
  };
}
