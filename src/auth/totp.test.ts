import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode } from "./base32.js";
import { ManualClock } from "./clock.js";
import { generateTotpSecret, otpauthUri, totpCode, totpCounter, verifyTotp } from "./totp.js";

const RFC_SECRET = base32Encode(Buffer.from("12345678901234567890"));

describe("totpCode", () => {
  // RFC 6238 Appendix B, the SHA1 column
  it.each([
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ])("matches the RFC 6238 vector at T=%i s", (seconds, code) => {
    expect(totpCode(RFC_SECRET, seconds * 1000, { digits: 8 })).toBe(code);
  });

  it("gives 6 digits by default, the last six of the 8-digit code", () => {
    expect(totpCode(RFC_SECRET, 59_000)).toBe("287082");
  });

  it("throws on a secret that is not base32, or on unsupported digits", () => {
    expect(() => totpCode("not base32!", 0)).toThrow(TypeError);
    expect(() => totpCode("", 0)).toThrow(TypeError);
    expect(() => totpCode(RFC_SECRET, 0, { digits: 4 })).toThrow(RangeError);
  });
});

describe("verifyTotp", () => {
  const secret = generateTotpSecret();
  const clock = new ManualClock(1_700_000_000_000);

  it("accepts the current code and returns its counter", () => {
    const code = totpCode(secret, clock.now());
    expect(verifyTotp(secret, code, clock.now())).toBe(totpCounter(clock.now()));
  });

  it("accepts one step either side by default, not two", () => {
    const now = clock.now();
    const counter = totpCounter(now);
    expect(verifyTotp(secret, totpCode(secret, now - 30_000), now)).toBe(counter - 1);
    expect(verifyTotp(secret, totpCode(secret, now + 30_000), now)).toBe(counter + 1);
    expect(verifyTotp(secret, totpCode(secret, now - 60_000), now)).toBeNull();
    expect(verifyTotp(secret, totpCode(secret, now + 60_000), now)).toBeNull();
  });

  it("lets a code expire as time passes", () => {
    const issued = new ManualClock(1_700_000_020_000); // 10 s into a step
    const code = totpCode(secret, issued.now());
    issued.advance(49_000); // still within the next step
    expect(verifyTotp(secret, code, issued.now())).not.toBeNull();
    issued.advance(2_000); // two steps on
    expect(verifyTotp(secret, code, issued.now())).toBeNull();
  });

  it("with window 0 accepts only the current step", () => {
    const now = clock.now();
    expect(verifyTotp(secret, totpCode(secret, now), now, { window: 0 })).not.toBeNull();
    expect(verifyTotp(secret, totpCode(secret, now - 30_000), now, { window: 0 })).toBeNull();
  });

  it("refuses a replayed code once its counter is stored", () => {
    const now = clock.now();
    const code = totpCode(secret, now);
    const counter = verifyTotp(secret, code, now);
    expect(counter).not.toBeNull();
    expect(verifyTotp(secret, code, now + 5_000, { lastUsedCounter: counter! })).toBeNull();
    // an older code inside the window is refused too, a newer one is fine
    expect(verifyTotp(secret, totpCode(secret, now - 30_000), now, { lastUsedCounter: counter! })).toBeNull();
    expect(verifyTotp(secret, totpCode(secret, now + 30_000), now + 30_000, { lastUsedCounter: counter! })).toBe(counter! + 1);
  });

  it("checks 8-digit codes against the RFC vector", () => {
    expect(verifyTotp(RFC_SECRET, "94287082", 59_000, { digits: 8 })).toBe(1);
  });

  it.each(["", "12345", "1234567", "12a456", " 12345", "１２３４５６"])("returns null for the malformed code %j", (code) => {
    expect(verifyTotp(secret, code, clock.now())).toBeNull();
  });

  it("returns null for a wrong code", () => {
    const right = totpCode(secret, clock.now());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    expect(verifyTotp(secret, wrong, clock.now(), { window: 0 })).toBeNull();
  });

  it("rejects a window outside 0–10", () => {
    expect(() => verifyTotp(secret, "123456", 0, { window: 11 })).toThrow(RangeError);
    expect(() => verifyTotp(secret, "123456", 0, { window: -1 })).toThrow(RangeError);
  });
});

describe("generateTotpSecret", () => {
  it("makes 160-bit base32 secrets without padding, different each time", () => {
    const a = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a)?.length).toBe(20);
    expect(generateTotpSecret()).not.toBe(a);
  });
});

describe("otpauthUri", () => {
  it("builds the key URI authenticator apps read", () => {
    const uri = otpauthUri({ issuer: "tenantmesh", account: "ada@example.com", secret: "JBSWY3DPEHPK3PXP" });
    expect(uri).toBe(
      "otpauth://totp/tenantmesh:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=tenantmesh&algorithm=SHA1&digits=6&period=30",
    );
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe("otpauth:");
    expect(parsed.searchParams.get("secret")).toBe("JBSWY3DPEHPK3PXP");
  });

  it("escapes spaces and colons in the label and issuer", () => {
    const uri = otpauthUri({ issuer: "Acme Co", account: "a:b c", secret: "JBSWY3DPEHPK3PXP=" });
    expect(uri).toBe(
      "otpauth://totp/Acme%20Co:a%3Ab%20c?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30",
    );
  });
});
