import { Readable } from "node:stream";
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";

let h: ProxyHarness;
beforeAll(async () => {
  h = await startProxyHarness({ sessions: { tms_valid: { tenantId: "acme", userId: "u-1", role: "admin", sessionId: "s-1" } } });
});
afterAll(async () => {
  await h.close();
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const errorCode = async (body: { json(): Promise<unknown> }): Promise<string> => ((await body.json()) as { error: { code: string } }).error.code;
/** The request the backends saw last (they share the round robin) */
const lastSeen = () => [...h.http[0]!.seen, ...h.http[1]!.seen].sort((a, b) => a.at - b.at).at(-1)!;

describe("HTTP through the proxy", () => {
  it("forwards to a backend with the verified, signed identity and W3C baggage", async () => {
    const res = await request(`${h.url}/v1/things?x=1`, { headers: { ...bearer(h.acme.token), traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-backend"]).toMatch(/^http-/);
    await res.body.json();
    const seen = lastSeen();
    expect(seen.url).toBe("/v1/things?x=1");
    expect(seen.identity).toMatchObject({ ok: true, identity: { tenantId: "acme" } });
    expect(seen.headers["x-tenant-principal"]).toMatch(/^api_key:/);
    expect(seen.headers.baggage).toBe("tenant.id=acme,tenant.plan=professional,tenant.priority=5");
    expect(seen.headers.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    // The credential stays at the proxy
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("strips a forged x-tenant-id and every x-tenant-* header, and replaces them with the signed identity", async () => {
    const res = await request(`${h.url}/v1/things`, {
      headers: { ...bearer(h.acme.token), "x-tenant-id": "globex", "x-tenant-identity": "v1.0.forged", "x-tenant-plan": "enterprise", baggage: "tenant.id=globex,user.tier=gold" },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = lastSeen();
    expect(seen.headers["x-tenant-id"]).toBe("acme");
    expect(seen.identity.ok).toBe(true);
    expect(seen.headers["x-tenant-plan"]).toBeUndefined();
    expect(seen.headers.baggage).toBe("user.tier=gold,tenant.id=acme,tenant.plan=professional,tenant.priority=5");
  });

  it("accepts the key in x-api-key and a user session token", async () => {
    const viaHeader = await request(`${h.url}/v1/a`, { headers: { "x-api-key": h.acme.token } });
    expect(viaHeader.statusCode).toBe(200);
    await viaHeader.body.dump();
    const viaSession = await request(`${h.url}/v1/b`, { headers: bearer("tms_valid") });
    expect(viaSession.statusCode).toBe(200);
    await viaSession.body.dump();
    expect(lastSeen().headers["x-tenant-principal"]).toBe("user:u-1");
  });

  it.each([
    ["no credential", {}],
    ["an unknown key", bearer(`tm_aaaaaaaaaaaa_${"a".repeat(32)}`)],
    ["a malformed key", bearer("tm_nope")],
    ["a wrong secret for a real key id", { "x-api-key": "" }],
    ["an unknown session", bearer("tms_unknown")],
    ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }],
  ])("refuses %s with 401 TM_ERR_UNAUTHENTICATED", async (_name, headers) => {
    const res = await request(`${h.url}/v1/things`, { headers: headers as Record<string, string> });
    expect(res.statusCode).toBe(401);
    expect(await errorCode(res.body)).toBe("TM_ERR_UNAUTHENTICATED");
  });

  it("refuses a wrong secret, an expired key and a revoked key with 401", async () => {
    const wrongSecret = h.acme.token.slice(0, -4) + (h.acme.token.endsWith("0000") ? "2222" : "0000");
    for (const token of [wrongSecret, h.expiredToken]) {
      const res = await request(`${h.url}/v1/things`, { headers: bearer(token) });
      expect(res.statusCode).toBe(401);
      await res.body.dump();
    }
    // Revocation: the key leaves the directory; a cached verification must not keep it alive
    const ok = await request(`${h.url}/v1/things`, { headers: bearer(h.umbrella.token) });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const umbrella = h.directory.tenant("umbrella")!;
    h.directory.upsert(umbrella, []);
    const revoked = await request(`${h.url}/v1/things`, { headers: bearer(h.umbrella.token) });
    expect(revoked.statusCode).toBe(401);
    await revoked.body.dump();
  });

  it("refuses a suspended tenant with 403 TM_ERR_TENANT_INACTIVE", async () => {
    const res = await request(`${h.url}/v1/things`, { headers: bearer(h.globex.token) });
    expect(res.statusCode).toBe(403);
    expect(await errorCode(res.body)).toBe("TM_ERR_TENANT_INACTIVE");
  });

  it("gates a route on the tenant's enabled modules, and follows a module change at once", async () => {
    const res = await request(`${h.url}/v1/risk/42`, { headers: bearer(h.acme.token) });
    expect(res.statusCode).toBe(403);
    expect(await errorCode(res.body)).toBe("TM_ERR_MODULE_DISABLED");
    h.patchAcme({ enabledModules: ["classification", "risk_assessment"] });
    const after = await request(`${h.url}/v1/risk/42`, { headers: bearer(h.acme.token) });
    expect(after.statusCode).toBe(200);
    await after.body.dump();
    h.patchAcme({ enabledModules: ["classification"] });
  });

  it("enforces CIDR network restrictions", async () => {
    const outside = await request(`${h.url}/v1/things`, { headers: bearer(h.initech.token) });
    expect(outside.statusCode).toBe(403);
    expect(await errorCode(outside.body)).toBe("TM_ERR_NETWORK_RESTRICTED");
  });

  it("streams request and response bodies", async () => {
    const body = Buffer.alloc(256 * 1024, 7);
    const res = await request(`${h.url}/v1/upload`, { method: "POST", headers: bearer(h.acme.token), body });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { bodyBytes: number }).bodyBytes).toBe(body.length);
    const chunked = await request(`${h.url}/v1/upload`, {
      method: "POST",
      headers: bearer(h.acme.token),
      body: Readable.from(
        (async function* () {
          for (let i = 0; i < 4; i++) yield Buffer.alloc(1000, i);
        })(),
      ),
    });
    expect(((await chunked.body.json()) as { bodyBytes: number }).bodyBytes).toBe(4000);
    const stream = await request(`${h.url}/stream?chunks=5`, { headers: bearer(h.acme.token) });
    expect(await stream.body.text()).toBe("chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n");
  });

  it("passes backend statuses through, and sends normalised paths upstream", async () => {
    const res = await request(`${h.url}/status/503`, { headers: bearer(h.acme.token) });
    expect(res.statusCode).toBe(503);
    await res.body.dump();
    const dotted = await request(`${h.url}/v1/a/./b/%63?q=1`, { headers: bearer(h.acme.token) });
    await dotted.body.dump();
    expect(lastSeen().url).toBe("/v1/a/b/c?q=1");
  });

  it("passes a WebSocket upgrade through to the backend", async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = httpRequest(`${h.url}/v1/ws`, {
        headers: { ...bearer(h.acme.token), connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
      });
      req.on("upgrade", (res, s: Socket) => (res.statusCode === 101 ? resolve(s) : reject(new Error(String(res.statusCode)))));
      req.on("response", (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
    const echoed = new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
    socket.write("ping through the tunnel");
    expect(await echoed).toBe("ping through the tunnel");
    socket.destroy();
    expect(lastSeen().identity.ok).toBe(true);
  });

  it("refuses an upgrade without credentials on the raw socket", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${h.url}/v1/ws`, { headers: { connection: "Upgrade", upgrade: "websocket" } });
      req.on("response", (res) => resolve(res.statusCode ?? 0));
      req.on("upgrade", () => reject(new Error("upgraded without credentials")));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);
  });

  it("answers 404 TM_ERR_NO_ROUTE for a path no route serves, without revealing it to anonymous callers", async () => {
    const res = await request(`${h.url}/nowhere?token=secret`, { headers: bearer(h.acme.token) });
    expect(res.statusCode).toBe(404);
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("TM_ERR_NO_ROUTE");
    expect(body.error.message).not.toContain("secret");
    const anonymous = await request(`${h.url}/nowhere`);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
  });

  it("counts requests and rejections in /metrics", async () => {
    const text = await h.metrics.text();
    expect(text).toMatch(/tenantmesh_proxy_requests_total\{tenant="acme",cluster="http",backend="http-\d",protocol="http",outcome="ok",code="200"\} \d+/);
    expect(text).toMatch(/tenantmesh_proxy_rejections_total\{tenant="other",reason="unauthenticated"\} \d+/);
    expect(text).toMatch(/tenantmesh_proxy_rejections_total\{tenant="globex",reason="tenant_inactive"\} 1/);
  });
});
