import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/auth/clock.js";
import { verifyIdentity } from "../../src/identity/index.js";
import { ProxyContext } from "../context.js";
import type { TenantEntry } from "../directory/types.js";
import { upstreamGrpcHeaders, upstreamHttpHeaders, withTenantBaggage } from "./headers.js";

const secret = Buffer.alloc(32, 1);
const signing = { secret, clock: new ManualClock(1_000) };

function ctx(headers: Record<string, string>): ProxyContext {
  const c = new ProxyContext("http", { kind: "upgrade" } as never, "GET", "/p", "", "", "10.0.0.9", headers, "req-1", 0);
  c.tenant = { id: "acme" } as TenantEntry;
  c.principal = "api_key:k";
  return c;
}

describe("upstream headers", () => {
  it("drops hop-by-hop headers, those Connection names, credentials and every x-tenant-*", () => {
    const out = upstreamHttpHeaders(
      ctx({ connection: "keep-alive, x-hop", "x-hop": "1", "keep-alive": "5", te: "gzip", authorization: "Bearer tm_x", "x-api-key": "k", "x-tenant-plan": "gold", accept: "*/*" }),
      signing,
    );
    expect(Object.keys(out).sort()).toEqual(["accept", "baggage", "x-forwarded-for", "x-forwarded-proto", "x-request-id", "x-tenant-id", "x-tenant-identity", "x-tenant-principal"]);
    expect(verifyIdentity(secret, out as Record<string, string>, 1_000)).toEqual({ ok: true, identity: { tenantId: "acme", principal: "api_key:k", requestId: "req-1" } });
  });

  it("appends to x-forwarded-for", () => {
    expect(upstreamHttpHeaders(ctx({ "x-forwarded-for": "1.2.3.4" }), signing)["x-forwarded-for"]).toBe("1.2.3.4, 10.0.0.9");
  });

  it("builds gRPC pseudo-headers, te: trailers and the proxy's own grpc-timeout", () => {
    const out = upstreamGrpcHeaders(ctx({ "grpc-timeout": "99S", "x-echo-a": "1", "content-type": "application/grpc" }), signing, "b:1", 250.2);
    expect(out).toMatchObject({ ":method": "POST", ":path": "/p", ":authority": "b:1", te: "trailers", "grpc-timeout": "251m", "x-echo-a": "1" });
  });

  it("keeps the client's baggage but never its tenant.id", () => {
    expect(withTenantBaggage(undefined, "acme")).toBe("tenant.id=acme");
    expect(withTenantBaggage("a=1, tenant.id=evil ,b=2", "acme")).toBe("a=1,b=2,tenant.id=acme");
  });
});
