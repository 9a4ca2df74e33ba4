import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { signServiceToken } from "./service-token.js";
import { SESSION_TOKEN_MAX_TTL_MS, signSessionToken, verifySessionToken, type SessionClaims } from "./session-token.js";
import { sealToken } from "./signed-token.js";

const secret = randomBytes(32);
const clock = new ManualClock(Date.UTC(2026, 11, 1));
const claims: SessionClaims = {
  tenantId: "7d1c1a7e-5a8e-4b1e-9d0c-2f4c8f6f9a01",
  userId: "0b6f7c1e-3c2d-4e5f-8a9b-1c2d3e4f5a6b",
  role: "admin",
  sessionId: "s_01HZX",
  issuedAt: clock.now(),
  expiresAt: clock.now() + 15 * 60_000,
};

/** Re-spells a base64url string's last character with different unused low bits: same bytes, other text */
const respellLast = (token: string): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(token.slice(-1));
  return token.slice(0, -1) + alphabet[last ^ 1];
};

describe("session tokens", () => {
  const token = signSessionToken(secret, claims);

  it("round-trip their claims", () => {
    expect(token).toMatch(/^tms_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifySessionToken(secret, token, clock.now())).toEqual({ ok: true, claims });
  });

  it("expire at expiresAt", () => {
    const later = new ManualClock(clock.now());
    later.advance(15 * 60_000 - 1);
    expect(verifySessionToken(secret, token, later.now()).ok).toBe(true);
    later.advance(1);
    expect(verifySessionToken(secret, token, later.now())).toEqual({ ok: false, reason: "expired" });
  });

  it("refuse a tampered payload or signature", () => {
    const [payload = "", signature = ""] = token.slice(4).split(".");
    const json = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...json, role: "owner" })).toString("base64url");
    expect(verifySessionToken(secret, `tms_${forged}.${signature}`, clock.now())).toEqual({ ok: false, reason: "bad_signature" });

    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    expect(verifySessionToken(secret, `tms_${payload}.${flipped}`, clock.now())).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifySessionToken(secret, respellLast(token), clock.now())).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifySessionToken(randomBytes(32), token, clock.now())).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each([
    ["empty", ""],
    ["no prefix", (t: string) => t.slice(4)],
    ["wrong prefix", (t: string) => `tmx_${t.slice(4)}`],
    ["no signature", (t: string) => t.split(".")[0] ?? ""],
    ["an extra segment", (t: string) => `${t}.AAAA`],
    ["a short signature", (t: string) => t.slice(0, -1)],
    ["padding", (t: string) => `${t}=`],
    ["a payload that is not JSON", "tms_bm90IGpzb24.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["an oversized token", `tms_${"A".repeat(5000)}.${"A".repeat(43)}`],
  ])("call a token with %s malformed", (_what, make) => {
    const input = typeof make === "string" ? make : make(token);
    expect(verifySessionToken(secret, input, clock.now())).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuse correctly signed payloads with missing, extra or ill-typed claims", () => {
    const kind = { prefix: "tms_", typ: "session" };
    const { role: _role, ...withoutRole } = claims;
    for (const payload of [
      withoutRole,
      { ...claims, admin: true },
      { ...claims, issuedAt: String(claims.issuedAt) },
      { ...claims, role: "" },
      { ...claims, expiresAt: claims.issuedAt },
      { ...claims, expiresAt: claims.issuedAt + SESSION_TOKEN_MAX_TTL_MS + 1 },
    ]) {
      expect(verifySessionToken(secret, sealToken(kind, secret, payload), clock.now())).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("refuse an issued-at in the far future, allowing a minute of skew", () => {
    const skewed = { ...claims, issuedAt: clock.now() + 60_000, expiresAt: clock.now() + 120_000 };
    expect(verifySessionToken(secret, signSessionToken(secret, skewed), clock.now()).ok).toBe(true);
    const future = { ...claims, issuedAt: clock.now() + 3_600_000, expiresAt: clock.now() + 4_000_000 };
    expect(verifySessionToken(secret, signSessionToken(secret, future), clock.now())).toEqual({ ok: false, reason: "malformed" });
  });

  it("are never accepted as service tokens, nor service tokens as session tokens", () => {
    const service = signServiceToken(secret, { name: "proxy-1", scopes: ["routes:read"], issuedAt: clock.now() });
    expect(verifySessionToken(secret, service, clock.now())).toEqual({ ok: false, reason: "malformed" });
    // even re-labelled with the session prefix, the MAC (which covers the prefix) and the typ claim refuse it
    const relabelled = `tms_${service.slice("tmsvc_".length)}`;
    expect(verifySessionToken(secret, relabelled, clock.now()).ok).toBe(false);
  });

  it("refuse a payload signed under the session prefix that claims another typ", () => {
    const serviceTyped = sealToken({ prefix: "tms_", typ: "service" }, secret, claims);
    expect(verifySessionToken(secret, serviceTyped, clock.now())).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("session token secret rotation", () => {
  const oldSecret = randomBytes(32);
  const newSecret = randomBytes(48);

  it("verifies tokens from every held secret and signs with the first", () => {
    const old = signSessionToken(oldSecret, claims);
    const rotated = [newSecret, oldSecret];
    const fresh = signSessionToken(rotated, claims);
    expect(verifySessionToken(rotated, old, clock.now()).ok).toBe(true);
    expect(verifySessionToken(rotated, fresh, clock.now()).ok).toBe(true);
    expect(verifySessionToken(newSecret, fresh, clock.now()).ok).toBe(true);
    expect(verifySessionToken(oldSecret, fresh, clock.now())).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("stops accepting a secret once it is dropped", () => {
    const old = signSessionToken(oldSecret, claims);
    expect(verifySessionToken([newSecret], old, clock.now())).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("names the signing secret in the payload, not the secret itself", () => {
    const payload = JSON.parse(Buffer.from(signSessionToken(newSecret, claims).slice(4).split(".")[0] ?? "", "base64url").toString()) as {
      kid: string;
      typ: string;
    };
    expect(payload.typ).toBe("session");
    expect(payload.kid).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });

  it("throws on a misconfigured secret list", () => {
    expect(() => signSessionToken([], claims)).toThrow(RangeError);
    expect(() => signSessionToken(randomBytes(31), claims)).toThrow(RangeError);
    expect(() => verifySessionToken([secret, randomBytes(8)], "x", clock.now())).toThrow(RangeError);
  });
});

describe("signSessionToken", () => {
  it("throws on claims that are a caller's bug", () => {
    expect(() => signSessionToken(secret, { ...claims, tenantId: "" })).toThrow(RangeError);
    expect(() => signSessionToken(secret, { ...claims, expiresAt: claims.issuedAt - 1 })).toThrow(RangeError);
    expect(() => signSessionToken(secret, { ...claims, expiresAt: claims.issuedAt + SESSION_TOKEN_MAX_TTL_MS + 1 })).toThrow(RangeError);
  });

  it("ignores extra properties smuggled into the claims object", () => {
    const smuggled = { ...claims, typ: "service", scopes: ["admin"] } as SessionClaims;
    expect(verifySessionToken(secret, signSessionToken(secret, smuggled), clock.now())).toEqual({ ok: true, claims });
  });
});
