/**
 * RFC 4648 §6 base32 (alphabet A–Z 2–7), as used for TOTP secrets. Hand-written because node:crypto and
 * Buffer have no base32 codec.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const LOOKUP: ReadonlyMap<string, number> = new Map([...ALPHABET].map((ch, i) => [ch, i]));

/** Encodes bytes as upper-case base32; `pad` adds the `=` padding to a multiple of 8 characters */
export function base32Encode(bytes: Uint8Array, { pad = true }: { pad?: boolean } = {}): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xfff; // at most 4 + 8 bits are ever pending
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  if (pad) out += "=".repeat((8 - (out.length % 8)) % 8);
  return out;
}

/**
 * Decodes base32, case-insensitively, with or without correct `=` padding. Returns null (never throws) for
 * characters outside the alphabet, wrong padding, a length no encoder produces, or non-zero trailing bits, so
 * that every accepted string has exactly one meaning.
 */
export function base32Decode(text: string): Buffer | null {
  const unpadded = text.replace(/=+$/, "");
  if (unpadded.length !== text.length && text.length % 8 !== 0) return null;
  // 1, 3 and 6 leftover characters cannot come from whole bytes.
  if ([1, 3, 6].includes(unpadded.length % 8)) return null;

  const out = Buffer.alloc(Math.floor((unpadded.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of unpadded.toUpperCase()) {
    const value = LOOKUP.get(ch);
    if (value === undefined) return null;
    buffer = ((buffer << 5) | value) & 0x1fff; // at most 7 + 5 bits are ever pending
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return null;
  return out;
}
