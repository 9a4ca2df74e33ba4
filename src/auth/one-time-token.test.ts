import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import {
  ONE_TIME_TOKEN_TTL_MS,
  checkOneTimeToken,
  generateOneTimeToken,
  hashOneTimeToken,
  isOneTimeTokenExpired,
  oneTimeTokenExpiresAt,
} from "./one-time-token.js";

describe("one-time tokens", () => {
  it("are 256-bit url-safe strings with their SHA-256 hex for storage", () => {
    const { token, hash } = generateOneTimeToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(encodeURIComponent(token)).toBe(token);
    expect(hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashOneTimeToken(token)).toBe(hash);
    expect(generateOneTimeToken().token).not.toBe(token);
  });

  it("work until their expiry and not after", () => {
    const clock = new ManualClock(1_000_000);
    const { token, hash } = generateOneTimeToken();
    const stored = { hash, expiresAt: oneTimeTokenExpiresAt(clock) };
    expect(stored.expiresAt).toBe(1_000_000 + ONE_TIME_TOKEN_TTL_MS);
    clock.advance(ONE_TIME_TOKEN_TTL_MS - 1);
    expect(checkOneTimeToken(token, stored, clock)).toEqual({ ok: true });
    clock.advance(1);
    expect(checkOneTimeToken(token, stored, clock)).toEqual({ ok: false, reason: "expired" });
  });

  it("accept an expiry read as a Date", () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const expiresAt = new Date(oneTimeTokenExpiresAt(clock, 60_000));
    expect(isOneTimeTokenExpired(expiresAt, clock)).toBe(false);
    clock.advance(60_000);
    expect(isOneTimeTokenExpired(expiresAt, clock)).toBe(true);
    expect(isOneTimeTokenExpired(new Date(Number.NaN), clock)).toBe(true);
  });

  it("refuse another token, a wrong shape or a garbled stored hash as invalid", () => {
    const clock = new ManualClock();
    const { token, hash } = generateOneTimeToken();
    const stored = { hash, expiresAt: oneTimeTokenExpiresAt(clock) };
    for (const presented of [generateOneTimeToken().token, "", token.slice(1), `${token}=`, `${token.slice(0, -1)}+`]) {
      expect(checkOneTimeToken(presented, stored, clock)).toEqual({ ok: false, reason: "invalid" });
    }
    for (const garbled of ["", hash.toUpperCase(), hash.slice(2)]) {
      expect(checkOneTimeToken(token, { ...stored, hash: garbled }, clock)).toEqual({ ok: false, reason: "invalid" });
    }
  });

  it("report a wrong token as invalid even when expired, so expiry reveals nothing about a guess", () => {
    const clock = new ManualClock();
    const { hash } = generateOneTimeToken();
    clock.advance(ONE_TIME_TOKEN_TTL_MS * 2);
    expect(checkOneTimeToken(generateOneTimeToken().token, { hash, expiresAt: 0 }, clock)).toEqual({ ok: false, reason: "invalid" });
  });
});
