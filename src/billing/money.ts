/**
 * Money arithmetic in integers only. Amounts are minor units of a currency (cents); rates are micro-units
 * (millionths of the currency unit), so a price of a fraction of a cent is exact. Products of quantities and
 * rates run in BigInt: a month of API calls times a rate passes 2^53 long before it is a large bill.
 */

/** Minor-unit digits per ISO 4217 currency; 2 unless listed */
const minorDigits: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, CLP: 0, ISK: 0, BHD: 3, KWD: 3, OMR: 3, TND: 3 };

export const digitsOf = (currency: string): number => minorDigits[currency] ?? 2;

/** Micro-units in one minor unit: 10,000 for a 2-digit currency (1 cent = 10,000 millionths of a dollar) */
export const microsPerMinor = (currency: string): bigint => 10n ** BigInt(6 - digitsOf(currency));

/**
 * numerator / denominator rounded half to even (banker's rounding): exact halves go to the even neighbour, so
 * rounding many lines does not drift upward on average. Works for negative numerators (credits).
 */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError("denominator must be positive");
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let q = n / denominator;
  const twice = (n % denominator) * 2n;
  if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/**
 * The amount of a line in minor units: `billable` metered units at `rateMicros` per billing unit of
 * `unitsPerBillingUnit` metered units, rounded half to even once, at the end.
 */
export function lineAmountMinor(billable: bigint, rateMicros: bigint, unitsPerBillingUnit: bigint, currency: string): bigint {
  return divideHalfEven(billable * rateMicros, unitsPerBillingUnit * microsPerMinor(currency));
}

/** 123456 USD minor → "1234.56 USD" (exact: no floating point) */
export function formatMinor(amount: bigint | number, currency: string): string {
  const digits = digitsOf(currency);
  const v = BigInt(amount);
  const sign = v < 0n ? "-" : "";
  const abs = v < 0n ? -v : v;
  if (digits === 0) return `${sign}${abs} ${currency}`;
  const scale = 10n ** BigInt(digits);
  return `${sign}${abs / scale}.${String(abs % scale).padStart(digits, "0")} ${currency}`;
}
