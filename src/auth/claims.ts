/** Small type guards for reading untrusted token payloads without `any` */

/** True when `payload` has exactly the `required` keys plus any of the `optional` ones, and nothing else */
export function hasExactKeys(payload: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = Object.keys(payload);
  return required.every((key) => keys.includes(key)) && keys.every((key) => required.includes(key) || optional.includes(key));
}

/** A non-empty string of at most `max` UTF-16 units without control characters */
export function isBoundedString(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max && !/\p{Cc}/u.test(value);
}

/** Milliseconds since the epoch: a non-negative safe integer */
export function isEpochMs(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
