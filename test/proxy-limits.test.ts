import { Readable } from "node:stream";
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { connect, type Socket } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoRequest } from "../src/gen/tenantmesh/kyb/v1/echo.js";
import { startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";

let h: ProxyHarness;
beforeAll(async () => {
  h = await startProxyHarness({ limits: { maxBodyBytes: 64 * 1024, maxHeaderBytes: 8 * 1024, headersTimeoutMs: 500, keepAliveTimeoutMs: 300, maxConcurrentStreams: 8, maxGrpcMessageBytes: 1024 * 1024 } });
});
afterAll(async () => {
  await h.close();
});

/** Writes raw bytes, collects everything until the proxy closes the connection */
function raw(write: (s: Socket) => void): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const s = connect(h.port, "127.0.0.1");
    let text = "";
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("error", () => undefined);
    s.on("close", () => resolve({ text, ms: Date.now() - started }));
    s.on("connect", () => write(s));
  });
}

/** One gRPC call on a raw HTTP/2 session: the request body as given, the response headers + trailers */
function rawGrpc(session: ClientHttp2Session, body: Buffer, end = true): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/tenantmesh.kyb.v1.EchoService/Unary",
      "content-type": "application/grpc",
      te: "trailers",
      authorization: `Bearer ${h.acme.token}`,
    });
    let result: IncomingHttpHeaders = {};
    stream.on("response", (headers) => (result = { ...result, ...headers }));
    stream.on("trailers", (trailers) => (result = { ...result, ...trailers }));
    stream.on("data", () => undefined);
    stream.on("close", () => resolve(result));
    stream.on("error", reject);
    if (end) stream.end(body);
    else stream.write(body);
  });
}

const frame = (message: Buffer, flag = 0): Buffer => {
  const header = Buffer.alloc(5);
  header[0] = flag;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
};
const echoFrame = (): Buffer => frame(Buffer.from(EchoRequest.encode({ message: "ok", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "" }).finish()));

describe("limits on hostile clients", () => {
  it("answers oversized headers with 431 TM_ERR_HEADERS_TOO_LARGE", async () => {
    const { text } = await raw((s) => s.write(`GET /v1/x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${h.acme.token}\r\nx-big: ${"a".repeat(10_000)}\r\n\r\n`));
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(text).toContain("TM_ERR_HEADERS_TOO_LARGE");
  });

  it("refuses a declared body over the limit with 413 before reading it", async () => {
    const { text } = await raw((s) => s.write(`POST /v1/x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${h.acme.token}\r\ncontent-length: ${10 * 1024 * 1024}\r\n\r\n`));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain("TM_ERR_PAYLOAD_TOO_LARGE");
  });

  it("counts a chunked body while it streams and stops it at the limit with 413", async () => {
    const res = await request(`${h.url}/v1/upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.acme.token}` },
      body: Readable.from(
        (async function* () {
          for (let i = 0; i < 100; i++) yield Buffer.alloc(4096, 1);
        })(),
      ),
    }).catch((err: Error) => err);
    // Either the 413 arrives, or the proxy closed the connection while the client was still sending
    if (res instanceof Error) expect(res.message).toMatch(/closed|reset|EPIPE|socket/i);
    else {
      expect(res.statusCode).toBe(413);
      expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe("TM_ERR_PAYLOAD_TOO_LARGE");
    }
  });

  it("cuts a client that dribbles its headers at the headers timeout", async () => {
    const { text, ms } = await raw((s) => {
      s.write("GET /v1/x HTTP/1.1\r\nhost: x\r\nx-slow: ");
      const timer = setInterval(() => (s.writable ? s.write("a") : clearInterval(timer)), 100);
      s.once("close", () => clearInterval(timer));
    });
    expect(text === "" || /^HTTP\/1\.1 408 /.test(text)).toBe(true);
    expect(ms).toBeLessThan(3_000);
  });

  it("cuts a connection that never says anything", async () => {
    const { text, ms } = await raw(() => undefined);
    expect(text).toBe("");
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3_000);
  });

  it("closes a keep-alive connection left idle after its request", async () => {
    const { text, ms } = await raw((s) => s.write(`GET /v1/x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${h.acme.token}\r\n\r\n`));
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(ms).toBeLessThan(2_000);
  });

  it("advertises the cap on concurrent streams per HTTP/2 connection", async () => {
    const session = h2connect(h.url);
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(8);
    session.destroy();
  });

  it("ends only the stream with a malformed gRPC frame; the connection and the proxy keep serving", async () => {
    const session = h2connect(h.url);
    session.on("error", () => undefined);
    const bad = await rawGrpc(session, Buffer.from([7, 0, 0, 0, 2, 1, 2]));
    expect(bad["grpc-status"]).toBe("13");
    expect(bad["tm-error-code"]).toBe("TM_ERR_MALFORMED_REQUEST");
    const tooBig = await rawGrpc(session, Buffer.from([0, 0xff, 0xff, 0xff, 0xf0]), false);
    expect(tooBig["grpc-status"]).toBe("8");
    expect(tooBig["tm-error-code"]).toBe("TM_ERR_PAYLOAD_TOO_LARGE");
    const truncated = await rawGrpc(session, echoFrame().subarray(0, 6));
    expect(truncated["grpc-status"]).toBe("13");
    const good = await rawGrpc(session, echoFrame());
    expect(good["grpc-status"]).toBe("0");
    expect(session.destroyed).toBe(false);
    session.destroy();
  });

  it("survives clients that reset mid-request on both protocols", async () => {
    for (let i = 0; i < 20; i++) {
      await raw((s) => {
        s.write(`POST /v1/x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${h.acme.token}\r\ncontent-length: 1000\r\n\r\nabc`);
        setTimeout(() => s.resetAndDestroy(), 5);
      });
      const session = h2connect(h.url);
      session.on("error", () => undefined);
      const stream = session.request({ ":method": "POST", ":path": "/tenantmesh.kyb.v1.EchoService/Unary", "content-type": "application/grpc", authorization: `Bearer ${h.acme.token}` });
      stream.on("error", () => undefined);
      stream.write(echoFrame().subarray(0, 3));
      session.destroy();
    }
    const res = await request(`${h.url}/v1/after`, { headers: { authorization: `Bearer ${h.acme.token}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
