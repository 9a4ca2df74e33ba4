import { describe, expect, it } from "vitest";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { signIdentity, verifyIdentity } from "./forwarded-identity.js";

const secret = Buffer.alloc(32, 7);
const id = { tenantId: "0b8a0d35-52a5-4a6c-9e67-2f7a1c3e9d10", principal: "api_key:abc", requestId: "r-1" };
const headersFor = (sig: string, over: Record<string, string> = {}) => ({
  "x-tenant-id": id.tenantId,
  "x-tenant-principal": id.principal,
  "x-request-id": id.requestId,
  "x-tenant-identity": sig,
  ...over,
});

describe("forwarded tenant identity", () => {
  it("accepts what the proxy signed", () => {
    const check = verifyIdentity(secret, headersFor(signIdentity(secret, id, 1_000)), 1_500);
    expect(check).toEqual({ ok: true, identity: id });
  });

  it("refuses a forged tenant id under a valid signature", () => {
    const sig = signIdentity(secret, id, 1_000);
    const forged = headersFor(sig, { "x-tenant-id": "11111111-1111-4111-8111-111111111111" });
    expect(verifyIdentity(secret, forged, 1_000)).toEqual({ ok: false, reason: "forged identity signature" });
  });

  it("refuses a signature made with another secret, a stale one, a missing one and a malformed one", () => {
    expect(verifyIdentity(secret, headersFor(signIdentity(Buffer.alloc(32, 8), id, 0)), 0).ok).toBe(false);
    expect(verifyIdentity(secret, headersFor(signIdentity(secret, id, 0)), 61_000)).toEqual({ ok: false, reason: "stale identity signature" });
    expect(verifyIdentity(secret, { "x-tenant-id": id.tenantId }, 0)).toEqual({ ok: false, reason: "missing forwarded identity" });
    expect(verifyIdentity(secret, headersFor("v1.x.y"), 0)).toEqual({ ok: false, reason: "malformed identity signature" });
  });

  it("refuses repeated headers", () => {
    const sig = signIdentity(secret, id, 0);
    expect(verifyIdentity(secret, { ...headersFor(sig), "x-tenant-id": [id.tenantId, id.tenantId] }, 0).ok).toBe(false);
  });
});

describe("signIdentity's one-shot HMAC", () => {
  it("gives the same signature as node:crypto's createHmac, for any secret length up to a block and any message", () => {
    for (const secretLength of [32, 48, 64]) {
      const secret = randomBytes(secretLength);
      for (const id of [
        { tenantId: randomUUID(), principal: "api_key:abcdefgh2345", requestId: randomUUID() },
        { tenantId: "t", principal: "user:ünïcødé-✓", requestId: "r" },
        { tenantId: "x".repeat(700), principal: "p", requestId: "r" }, // too long for the buffers: the general path
      ]) {
        const now = 1_700_000_000_123;
        const expected = createHmac("sha256", secret).update(`v1\n${id.tenantId}\n${id.principal}\n${id.requestId}\n${now}`).digest("base64url");
        expect(signIdentity(secret, id, now)).toBe(`v1.${now}.${expected}`);
        expect(verifyIdentity(secret, { "x-tenant-id": id.tenantId, "x-tenant-principal": id.principal, "x-request-id": id.requestId, "x-tenant-identity": signIdentity(secret, id, now) }, now)).toEqual({ ok: true, identity: id });
      }
    }
  });

  it("signs consecutive messages independently (the reused buffers keep nothing of the last one)", () => {
    const secret = randomBytes(32);
    const long = { tenantId: randomUUID(), principal: `api_key:${"k".repeat(200)}`, requestId: randomUUID() };
    const short = { tenantId: "a", principal: "b", requestId: "c" };
    const first = signIdentity(secret, short, 1);
    signIdentity(secret, long, 1);
    expect(signIdentity(secret, short, 1)).toBe(first);
  });
});
