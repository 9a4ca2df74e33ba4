import { randomBytes, scryptSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from "./password.js";

const PASSWORD = "correct horse battery staple";
const b64 = (bytes: Buffer): string => bytes.toString("base64").replace(/=+$/, "");

describe("hashPassword / verifyPassword", () => {
  let encoded = "";
  beforeAll(async () => {
    encoded = await hashPassword(PASSWORD);
  });

  it("writes a self-describing string that fits VARCHAR(255)", () => {
    expect(encoded).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(encoded.length).toBeLessThanOrEqual(255);
  });

  it("verifies the right password and refuses a wrong one", async () => {
    expect(await verifyPassword(PASSWORD, encoded)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, encoded)).toBe(false);
    expect(await verifyPassword("", encoded)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hashPassword(PASSWORD)).not.toBe(encoded);
  });

  it("treats canonically equivalent Unicode spellings as the same password", async () => {
    const composed = "Gr\u00fc\u00dfe aus K\u00f6ln 2024";
    const decomposed = composed.normalize("NFD");
    expect(decomposed).not.toBe(composed);
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it("reads the parameters from the stored string", async () => {
    const salt = randomBytes(16);
    const hash = scryptSync(PASSWORD, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
    const older = `scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(hash)}`;
    expect(await verifyPassword(PASSWORD, older)).toBe(true);
    expect(needsRehash(older)).toBe(true);
  });

  it("returns false, without throwing, for garbled or unknown encodings", async () => {
    // 32 bytes take 43 base64 characters whose last 2 bits must be zero; setting one spells the same bytes
    // differently (truncating a character instead would be canonical one time in 16, and then a shorter hash).
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const nonCanonical = (b64: string): string => b64.slice(0, -1) + alphabet[alphabet.indexOf(b64.at(-1) ?? "A") | 1];
    const [, params = "", salt = "", hash = ""] = encoded.split("$");
    const garbled = [
      "",
      "not a hash",
      "$2b$12$abcdefghijklmnopqrstuuMzL3h6o2xJYkqF6S1mQO1tB4cGf3y6e", // bcrypt
      `argon2id$${params}$${salt}$${hash}`,
      `scrypt$${params}$${salt}`,
      `scrypt$${params}$${salt}$${hash}$extra`,
      `scrypt$ln=15,r=8$${salt}$${hash}`,
      `scrypt$ln=0,r=8,p=1$${salt}$${hash}`,
      `scrypt$ln=15,r=0,p=1$${salt}$${hash}`,
      `scrypt$ln=15,r=8,p=1$${salt}!$${hash}`,
      `scrypt$ln=15,r=8,p=1$${salt}$${nonCanonical(hash)}`, // the same bytes, spelled with non-zero padding bits
      `scrypt$ln=15,r=8,p=1$${salt}==$${hash}`,
      `scrypt$ln=15,r=8,p=1$${salt}$${hash.slice(0, 10)}`, // hash too short
      ` ${encoded}`,
      `${encoded}\n`,
    ];
    for (const value of garbled) expect(await verifyPassword(PASSWORD, value), value).toBe(false);
  });

  it("refuses stored parameters that would exhaust memory or CPU, without running them", async () => {
    const [, , salt = "", hash = ""] = encoded.split("$");
    for (const params of ["ln=30,r=8,p=1", "ln=15,r=99,p=1", "ln=15,r=8,p=99"]) {
      const started = performance.now();
      expect(await verifyPassword(PASSWORD, `scrypt$${params}$${salt}$${hash}`)).toBe(false);
      expect(performance.now() - started).toBeLessThan(200); // running any of them takes 0.5–6 s
    }
  });

  it("says when a hash needs redoing", () => {
    expect(needsRehash(encoded)).toBe(false);
    expect(needsRehash("garbage")).toBe(true);
  });
});

describe("checkPasswordPolicy", () => {
  it.each(["correct horse battery staple", "Tr0ub4dor&3xyz", "abcdefghijkL", "passwort-ist-lang", "ĝis revido, amiko!"])(
    "accepts %j",
    (password) => {
      expect(checkPasswordPolicy(password)).toEqual([]);
    },
  );

  it("rejects passwords shorter than 12 characters, counting code points", () => {
    expect(checkPasswordPolicy("Short1!")).toEqual([{ field: "password", description: "must be at least 12 characters" }]);
    expect(checkPasswordPolicy("😀😀😀😀😀😀a")).toHaveLength(1); // 7 code points, 14 UTF-16 units
  });

  it("rejects passwords longer than 256 characters", () => {
    expect(checkPasswordPolicy(`Aa1${"x".repeat(254)}`)).toEqual([
      { field: "password", description: "must be at most 256 characters" },
    ]);
    expect(checkPasswordPolicy(`Aa1${"x".repeat(253)}`)).toEqual([]);
  });

  it.each(["aaaaaaaaaaaa", "123456789012", "ABCDEFGHIJKLMNOP", "!@#$%^&*()_+-="])("rejects the single-class %j", (password) => {
    expect(checkPasswordPolicy(password).map((v) => v.description)).toEqual([
      "must not consist of only letters of one case, only digits or only symbols",
    ]);
  });

  it("rejects control characters", () => {
    expect(checkPasswordPolicy("correct horse\u0000battery").map((v) => v.description)).toEqual([
      "must not contain control characters",
    ]);
  });

  it("reports every broken rule", () => {
    expect(checkPasswordPolicy("aaa")).toHaveLength(2);
  });
});
