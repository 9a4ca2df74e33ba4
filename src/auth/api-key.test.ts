import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKeySecret, keyPrefix, parseApiKey, verifyApiKeySecret } from "./api-key.js";

const pepper = randomBytes(32);
const VALID = `tm_abcdefgh2345_${"A1b2C3d4".repeat(4)}`;

describe("generateApiKey", () => {
  it("makes tokens of the documented shape that parse back", () => {
    const key = generateApiKey();
    expect(key.keyId).toMatch(/^[a-z2-7]{12}$/);
    expect(key.secret).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(key.token).toBe(`tm_${key.keyId}_${key.secret}`);
    expect(parseApiKey(key.token)).toEqual({ keyId: key.keyId, secret: key.secret });
  });

  it("does not repeat itself", () => {
    const tokens = new Set(Array.from({ length: 200 }, () => generateApiKey().token));
    expect(tokens.size).toBe(200);
  });

  it("uses the whole secret alphabet", () => {
    const seen = new Set(Array.from({ length: 100 }, () => generateApiKey().secret).join(""));
    expect(seen.size).toBe(62);
  });
});

describe("parseApiKey", () => {
  it("accepts a well-formed token", () => {
    expect(parseApiKey(VALID)).toEqual({ keyId: "abcdefgh2345", secret: "A1b2C3d4".repeat(4) });
  });

  it.each([
    ["empty", ""],
    ["only the prefix", "tm_"],
    ["wrong prefix", VALID.replace(/^tm_/, "tk_")],
    ["upper-case prefix", VALID.replace(/^tm_/, "TM_")],
    ["no prefix", VALID.slice(3)],
    ["extra underscore in the secret", `${VALID.slice(0, -1)}_`],
    ["extra underscore segment", `${VALID}_x`],
    ["double underscore", VALID.replace("_A", "__A")],
    ["short key id", VALID.replace("abcdefgh2345", "abcdefgh234")],
    ["long key id", VALID.replace("abcdefgh2345", "abcdefgh23456")],
    ["short secret", VALID.slice(0, -1)],
    ["long secret", `${VALID}x`],
    ["upper case in the key id", VALID.replace("abcdefgh", "ABCDEFGH")],
    ["base32 digit out of range in the key id", VALID.replace("2345", "0189")],
    ["symbol in the secret", VALID.replace("A1", "A-")],
    ["non-ASCII in the secret", VALID.replace("A1", "Ä1")],
    ["leading space", ` ${VALID}`],
    ["trailing newline", `${VALID}\n`],
  ])("returns null for %s", (_what, token) => {
    expect(parseApiKey(token)).toBeNull();
  });
});

describe("keyPrefix", () => {
  it("shows only the key id", () => {
    expect(keyPrefix(VALID)).toBe("tm_abcdefgh2345_…");
    expect(keyPrefix("tm_nonsense")).toBeNull();
  });
});

describe("hashApiKeySecret / verifyApiKeySecret", () => {
  const { keyId, secret } = generateApiKey();
  const stored = hashApiKeySecret(pepper, keyId, secret);

  it("is HMAC-SHA-256 of keyId:secret under the pepper, in hex", () => {
    // Pins the message layout (keyId + ":" + secret): a change would orphan every stored key.
    expect(hashApiKeySecret(Buffer.alloc(32, 1), "abcdefgh2345", "s")).toBe(
      "9053b05acedc06edd5e5ad13b4ebff7ad8c0b28b50986bcb742db9bcece15b7e",
    );
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
  });

  it("verifies the right secret only", () => {
    expect(verifyApiKeySecret(pepper, keyId, secret, stored)).toBe(true);
    // Change the last character to one it is not (a random secret may already end in "x").
    const other = secret.endsWith("x") ? "y" : "x";
    expect(verifyApiKeySecret(pepper, keyId, `${secret.slice(0, -1)}${other}`, stored)).toBe(false);
    expect(verifyApiKeySecret(randomBytes(32), keyId, secret, stored)).toBe(false);
  });

  it("binds the hash to its key id", () => {
    expect(verifyApiKeySecret(pepper, "zzzzzzzzzzzz", secret, stored)).toBe(false);
  });

  it("returns false for a malformed stored hash", () => {
    for (const bad of ["", stored.slice(1), stored.toUpperCase(), `${stored}00`, "z".repeat(64)]) {
      expect(verifyApiKeySecret(pepper, keyId, secret, bad)).toBe(false);
    }
  });

  it("refuses a short pepper", () => {
    expect(() => hashApiKeySecret(randomBytes(16), keyId, secret)).toThrow(RangeError);
  });
});
