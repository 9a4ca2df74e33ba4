import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode } from "./base32.js";

// RFC 4648 §10 test vectors
const vectors: [string, string][] = [
  ["", ""],
  ["f", "MY======"],
  ["fo", "MZXQ===="],
  ["foo", "MZXW6==="],
  ["foob", "MZXW6YQ="],
  ["fooba", "MZXW6YTB"],
  ["foobar", "MZXW6YTBOI======"],
];

describe("base32", () => {
  it.each(vectors)("encodes %j as %s (RFC 4648 §10)", (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    expect(base32Encode(Buffer.from(plain), { pad: false })).toBe(encoded.replace(/=+$/, ""));
  });

  it.each(vectors)("decodes %j from %s, padded or not, any case", (plain, encoded) => {
    expect(base32Decode(encoded)?.toString()).toBe(plain);
    expect(base32Decode(encoded.replace(/=+$/, ""))?.toString()).toBe(plain);
    expect(base32Decode(encoded.toLowerCase())?.toString()).toBe(plain);
  });

  it("round-trips random bytes of every length up to 40", () => {
    for (let n = 0; n <= 40; n++) {
      const bytes = randomBytes(n);
      expect(base32Decode(base32Encode(bytes))?.equals(bytes)).toBe(true);
      expect(base32Decode(base32Encode(bytes, { pad: false }))?.equals(bytes)).toBe(true);
    }
  });

  it.each([
    ["a character outside the alphabet", "MZXW1==="],
    ["a space", "MZXW 6YQ"],
    ["an impossible length", "MZX"],
    ["padding to a wrong length", "MZXW6=="],
    ["padding in the middle", "MY======MY======"],
    ["non-zero trailing bits", "MZ======"],
  ])("rejects %s", (_what, text) => {
    expect(base32Decode(text)).toBeNull();
  });
});
