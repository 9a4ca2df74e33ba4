import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../src/log/index.js";
import { defaultProxyLimits } from "./proxy.js";
import { ProxyServer } from "./server.js";

/**
 * The HTTP/1.1 fast path behind the proxy's listener: which requests it serves itself, which it hands to Node's
 * server (with every byte intact), and the limits it keeps. The handlers answer with where a request was served.
 */
let server: ProxyServer;
let port = 0;

beforeAll(async () => {
  server = new ProxyServer(
    {
      fastHttp(req, res) {
        const body = JSON.stringify({ via: "fast", method: req.method, url: req.url, headers: req.headers });
        if (req.url === "/chunked") {
          res.writeHead(200, ["content-type", "text/plain"]);
          res.write("part one, ");
          res.end("part two");
          return;
        }
        if (req.url === "/slow") {
          setTimeout(() => res.writeHead(200, { "content-length": 4 }).end(Buffer.from("slow")), 50);
          return;
        }
        res.writeHead(200, ["content-type", "application/json", "content-length", String(Buffer.byteLength(body))]);
        res.end(Buffer.from(body));
      },
      http(req, res) {
        let size = 0;
        req.on("data", (c: Buffer) => (size += c.length));
        req.on("end", () => {
          const body = JSON.stringify({ via: "node", method: req.method, url: req.url, bodyBytes: size });
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
          res.end(body);
        });
      },
      upgrade(_req, socket) {
        socket.end("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: test\r\n\r\n");
      },
      grpc(stream) {
        stream.respond({ ":status": 200 }, { endStream: true });
      },
      clientError(err, socket) {
        const code = (err as { code?: string }).code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : (err as { code?: string }).code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
        socket.end(`HTTP/1.1 ${code}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      },
    },
    { ...defaultProxyLimits, maxHeaderBytes: 2_048, headersTimeoutMs: 400, keepAliveTimeoutMs: 300 },
    silentLogger,
  );
  port = (await server.listen("127.0.0.1", 0)).port;
});

afterAll(async () => {
  await server.close(100);
});

/** Sends `chunks` (with `gapMs` between them) on one connection; resolves with everything read until it closes or `until` matches */
function exchange(chunks: string[], opts: { gapMs?: number; until?: (text: string) => boolean; timeoutMs?: number } = {}): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, "127.0.0.1");
    let text = "";
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 3_000);
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (opts.until?.(text)) finish(false);
    });
    socket.on("close", () => finish(true));
    socket.on("error", () => undefined);
    void (async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    })();
  });
}

const bodies = (text: string): Array<Record<string, unknown>> =>
  [...text.matchAll(/\r\n\r\n(\{[^\r]*?\})(?=HTTP\/1\.1|$)/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
const count = (text: string, re: RegExp): number => [...text.matchAll(re)].length;

describe("HTTP/1.1 fast path", () => {
  it("serves body-less requests itself, several on one keep-alive connection, with a Date and the keep-alive timeout", async () => {
    const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Custom: a b\r\n\r\n`;
    const { text } = await exchange([get("/a"), get("/b?q=1"), get("/c")], { gapMs: 20, until: (t) => count(t, /HTTP\/1\.1 200/g) === 3 });
    const got = bodies(text);
    expect(got.map((b) => [b.via, b.url])).toEqual([
      ["fast", "/a"],
      ["fast", "/b?q=1"],
      ["fast", "/c"],
    ]);
    expect(got[0]!.headers).toEqual({ host: "x", "x-custom": "a b" });
    expect(text).toMatch(/\r\ndate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    expect(text).toContain("\r\nkeep-alive: timeout=1\r\n");
  });

  it("answers pipelined requests in order", async () => {
    const get = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;
    const { text } = await exchange([get("/1") + get("/slow") + get("/3")], { until: (t) => count(t, /HTTP\/1\.1 200/g) === 3 });
    const order = [...text.matchAll(/"url":"([^"]+)"|slow/g)].map((m) => m[1] ?? "/slow");
    expect(order).toEqual(["/1", "/slow", "/3"]);
  });

  it("sends a body without a length chunked, and honours Connection: close", async () => {
    const { text, closed } = await exchange(["GET /chunked HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"]);
    expect(text).toMatch(/transfer-encoding: chunked\r\nconnection: close\r\n\r\na\r\npart one, \r\n8\r\npart two\r\n0\r\n\r\n$/);
    expect(closed).toBe(true);
  });

  it("hands a request with a body, and the rest of its connection, to Node's server with every byte intact", async () => {
    const post = "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello";
    const { text } = await exchange(["GET /first HTTP/1.1\r\nhost: x\r\n\r\n", post, "GET /after HTTP/1.1\r\nhost: x\r\n\r\n"], { gapMs: 30, until: (t) => count(t, /HTTP\/1\.1 200/g) === 3 });
    expect(bodies(text).map((b) => [b.via, b.url, b.bodyBytes])).toEqual([
      ["fast", "/first", undefined],
      ["node", "/upload", 5],
      ["node", "/after", 0],
    ]);
  });

  it("leaves to Node's server what it does not serve: HTTP/1.0, Expect, repeated headers, absolute targets, odd methods", async () => {
    const cases = [
      "GET /old HTTP/1.0\r\nhost: x\r\n\r\n",
      "GET /expect HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 0\r\n\r\n",
      "GET /twice HTTP/1.1\r\nhost: x\r\nx-a: 1\r\nX-A: 2\r\n\r\n",
      "GET http://x/abs HTTP/1.1\r\nhost: x\r\n\r\n",
    ];
    for (const request of cases) {
      const { text } = await exchange([request], { until: (t) => /\r\n\r\n\{.*\}$/.test(t) });
      expect(bodies(text)[0]?.via, request).toBe("node");
    }
  });

  it("lets Node's parser refuse a smuggling attempt (Content-Length with Transfer-Encoding) and a malformed head", async () => {
    const smuggle = "POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n";
    const a = await exchange([smuggle]);
    expect(a.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(a.text).not.toContain("/smuggled");
    for (const bad of ["GET /x HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n", "get /lower HTTP/1.1\r\nhost: x\r\n\r\n"]) {
      const r = await exchange([bad]);
      expect(r.text, JSON.stringify(bad)).toMatch(/^HTTP\/1\.1 400 /);
    }
    // Irregular but not always invalid: never the fast path's to read (Node's parser accepts or refuses them)
    for (const odd of ["GET /x HTTP/1.1\r\nhost: x\r\nx-a: 1\n\r\n", "GET /x HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n folded: y\r\n\r\n", "GET /x HTTP/1.1\r\nhost: x\r\nx-a: a\u0001b\r\n\r\n"]) {
      const r = await exchange([odd], { until: (t) => /\r\n\r\n(\{.*\})?$/.test(t) });
      expect(r.text, JSON.stringify(odd)).not.toContain('"via":"fast"');
    }
  });

  it("hands an upgrade to Node's server (WebSocket goes the general way)", async () => {
    const { text } = await exchange(["GET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n"]);
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
  });

  it("leaves an oversized head to Node's limit (431)", async () => {
    const { text } = await exchange([`GET /big HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(3_000)}\r\n\r\n`]);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
  });

  it("answers 408 to a client that dribbles its head past the headers timeout", async () => {
    const { text, closed, ms } = await exchange(["GET /x HTTP/1.1\r\n", "host: x\r\n", "x-a: 1\r\n", "x-b: 2\r\n", "x-c: 3\r\n", "x-d: 4\r\n"], { gapMs: 150 });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closed).toBe(true);
    expect(ms).toBeLessThan(1_500);
  });

  it("closes a keep-alive connection idle for the keep-alive timeout, silently", async () => {
    const { text, closed, ms } = await exchange(["GET /x HTTP/1.1\r\nhost: x\r\n\r\n"]);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(closed).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(2_000);
  });

  it("answers a tenant's many requests on one connection without growing: an attacker's pipelined flood is read a head at a time", async () => {
    const flood = "GET /f HTTP/1.1\r\nhost: x\r\n\r\n".repeat(200);
    const { text } = await exchange([flood], { until: (t) => count(t, /HTTP\/1\.1 200/g) === 200, timeoutMs: 5_000 });
    expect(count(text, /HTTP\/1\.1 200/g)).toBe(200);
  });
});

describe("ProxyServer with the fast path off", () => {
  it("serves every HTTP/1.1 request through Node's server", async () => {
    const off = new ProxyServer(
      {
        fastHttp: () => {
          throw new Error("fast path used while off");
        },
        http: (_req, res) => res.writeHead(200, { "content-length": 4 }).end("node"),
        upgrade: () => undefined,
        grpc: () => undefined,
        clientError: (_e, s) => s.destroy(),
      },
      { ...defaultProxyLimits, fastHttp1: false },
      silentLogger,
    );
    const p = (await off.listen("127.0.0.1", 0)).port;
    try {
      const res = await fetch(`http://127.0.0.1:${p}/x`);
      expect(await res.text()).toBe("node");
    } finally {
      await off.close(100);
    }
  });
});
