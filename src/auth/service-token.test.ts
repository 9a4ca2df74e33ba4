import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { hasScope, signServiceToken, verifyServiceToken, type ServiceClaims } from "./service-token.js";
import { signSessionToken } from "./session-token.js";

const secret = randomBytes(32);
const clock = new ManualClock(Date.UTC(2026, 11, 1));
const claims: ServiceClaims = { name: "proxy-eu-1", scopes: ["routes:read", "usage:write"], issuedAt: clock.now() };

describe("service tokens", () => {
  it("round-trip their claims, with and without expiry", () => {
    const token = signServiceToken(secret, claims);
    expect(token).toMatch(/^tmsvc_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyServiceToken(secret, token, clock.now())).toEqual({ ok: true, claims });
    const expiring = { ...claims, expiresAt: clock.now() + 3_600_000 };
    expect(verifyServiceToken(secret, signServiceToken(secret, expiring), clock.now())).toEqual({ ok: true, claims: expiring });
  });

  it("without expiresAt stay valid until the secret is rotated out", () => {
    const token = signServiceToken(secret, claims);
    const later = new ManualClock(clock.now());
    later.advance(365 * 24 * 3_600_000);
    expect(verifyServiceToken(secret, token, later.now()).ok).toBe(true);
    expect(verifyServiceToken(randomBytes(32), token, later.now())).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("expire at expiresAt", () => {
    const token = signServiceToken(secret, { ...claims, expiresAt: clock.now() + 60_000 });
    const later = new ManualClock(clock.now());
    later.advance(59_999);
    expect(verifyServiceToken(secret, token, later.now()).ok).toBe(true);
    later.advance(1);
    expect(verifyServiceToken(secret, token, later.now())).toEqual({ ok: false, reason: "expired" });
  });

  it("refuse tampering with the scopes", () => {
    const token = signServiceToken(secret, claims);
    const [payload = "", signature = ""] = token.slice("tmsvc_".length).split(".");
    const json = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...json, scopes: ["admin"] })).toString("base64url");
    expect(verifyServiceToken(secret, `tmsvc_${widened}.${signature}`, clock.now())).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("are never accepted as session tokens, nor session tokens as service tokens", () => {
    const session = signSessionToken(secret, {
      tenantId: "t1",
      userId: "u1",
      role: "admin",
      sessionId: "s1",
      issuedAt: clock.now(),
      expiresAt: clock.now() + 60_000,
    });
    expect(verifyServiceToken(secret, session, clock.now())).toEqual({ ok: false, reason: "malformed" });
    expect(verifyServiceToken(secret, `tmsvc_${session.slice("tms_".length)}`, clock.now()).ok).toBe(false);
  });

  it("refuse an issued-at in the far future", () => {
    const token = signServiceToken(secret, { ...claims, issuedAt: clock.now() + 3_600_000 });
    expect(verifyServiceToken(secret, token, clock.now())).toEqual({ ok: false, reason: "malformed" });
  });

  it("rotate like session tokens", () => {
    const next = randomBytes(32);
    const old = signServiceToken(secret, claims);
    expect(verifyServiceToken([next, secret], old, clock.now()).ok).toBe(true);
    expect(verifyServiceToken([next], old, clock.now())).toEqual({ ok: false, reason: "bad_signature" });
  });
});

describe("signServiceToken", () => {
  it.each<[string, Partial<ServiceClaims>]>([
    ["no scopes", { scopes: [] }],
    ["a duplicate scope", { scopes: ["a", "a"] }],
    ["an upper-case scope", { scopes: ["Routes:Read"] }],
    ["a scope with a space", { scopes: ["routes read"] }],
    ["an empty name", { name: "" }],
    ["a name with a slash", { name: "proxy/1" }],
    ["an expiry before issue", { expiresAt: claims.issuedAt }],
  ])("throws on %s", (_what, change) => {
    expect(() => signServiceToken(secret, { ...claims, ...change })).toThrow(RangeError);
  });
});

describe("hasScope", () => {
  it("matches scopes exactly", () => {
    expect(hasScope(claims, "routes:read")).toBe(true);
    expect(hasScope(claims, "routes")).toBe(false);
    expect(hasScope(claims, "routes:read:all")).toBe(false);
  });
});
