import { describe, expect, it } from "vitest";
import { ResponseParseError, ResponseParser } from "./response-parser.js";

interface Parsed {
  status: number;
  headers: string[];
  body: string;
  complete: boolean;
  keepAlive: boolean;
  keepAliveHintMs: number | undefined;
  excess: boolean;
}

/** Feeds `wire` in pieces cut at `cuts` and returns what the parser reported */
function parse(wire: string, opts: { head?: boolean; cuts?: number[]; close?: boolean; maxHead?: number } = {}): Parsed {
  const parser = new ResponseParser(opts.maxHead);
  const out: Parsed = { status: 0, headers: [], body: "", complete: false, keepAlive: false, keepAliveHintMs: undefined, excess: false };
  parser.start(
    {
      onHead: (status, headers) => {
        out.status = status;
        out.headers = headers;
      },
      onBody: (chunk) => {
        expect(out.status).toBeGreaterThan(0);
        out.body += chunk.toString("latin1");
      },
      onComplete: () => {
        out.complete = true;
      },
    },
    opts.head ?? false,
  );
  const bytes = Buffer.from(wire, "latin1");
  let at = 0;
  for (const cut of [...(opts.cuts ?? []), bytes.length]) {
    if (cut > at) parser.execute(bytes.subarray(at, cut));
    at = Math.max(at, cut);
  }
  if (opts.close) parser.finish();
  out.keepAlive = parser.keepAlive;
  out.keepAliveHintMs = parser.keepAliveHintMs;
  out.excess = parser.excess;
  return out;
}

/** The same result whichever single byte boundary the response is split at (and split at every byte) */
function everySplit(wire: string, opts: { head?: boolean; close?: boolean } = {}): Parsed {
  const whole = parse(wire, opts);
  for (let cut = 1; cut < wire.length; cut++) expect(parse(wire, { ...opts, cuts: [cut] })).toEqual(whole);
  expect(parse(wire, { ...opts, cuts: Array.from({ length: wire.length }, (_, i) => i) })).toEqual(whole);
  return whole;
}

describe("ResponseParser", () => {
  it("reads a Content-Length response split at any byte", () => {
    const r = everySplit("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nKeep-Alive: timeout=5\r\n\r\nhello world");
    expect(r).toMatchObject({ status: 200, body: "hello world", complete: true, keepAlive: true, keepAliveHintMs: 5_000, excess: false });
    expect(r.headers).toEqual(["content-type", "application/json", "content-length", "11", "keep-alive", "timeout=5"]);
  });

  it("decodes a chunked body with extensions and trailers, split at any byte", () => {
    const r = everySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n");
    expect(r).toMatchObject({ status: 200, body: "hello world", complete: true, keepAlive: true });
  });

  it("reads a body delimited by the connection's close, and never reuses that connection", () => {
    const r = parse("HTTP/1.1 200 OK\r\n\r\npart one, part two", { close: true });
    expect(r).toMatchObject({ body: "part one, part two", complete: true, keepAlive: false });
    expect(parse("HTTP/1.1 200 OK\r\n\r\npart", {})).toMatchObject({ complete: false });
  });

  it("expects no body after HEAD, 204 and 304, whatever their headers say", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", { head: true })).toMatchObject({ complete: true, body: "", keepAlive: true });
    expect(parse("HTTP/1.1 204 No Content\r\n\r\n")).toMatchObject({ complete: true, status: 204 });
    expect(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")).toMatchObject({ complete: true, status: 304 });
  });

  it("skips 1xx interim responses and reports only the final one", () => {
    const r = everySplit("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    expect(r).toMatchObject({ status: 201, body: "ok", complete: true });
    expect(r.headers).toEqual(["content-length", "2"]);
  });

  it("says when the connection may carry another exchange", () => {
    expect(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keepAlive).toBe(false);
    expect(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive).toBe(false);
    expect(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keepAlive).toBe(true);
    // Both framings: Transfer-Encoding wins and the connection is not reused (RFC 9112 §6.1)
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")).toMatchObject({ body: "ok", complete: true, keepAlive: false });
  });

  it("marks bytes after a complete response as excess: the backend answered more than was asked", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n")).toMatchObject({ body: "ok", complete: true, excess: true, keepAlive: false });
  });

  it("accepts the same Content-Length repeated, and refuses conflicting or malformed ones", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok").body).toBe("ok");
    for (const value of ["2, 3", "-1", "1e3", "0x10", "", "12345678901234567"]) {
      expect(() => parse(`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\nok`), value).toThrow(ResponseParseError);
    }
    expect(() => parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")).toThrow(/conflicting/);
  });

  it("refuses what could smuggle or split a response: bare line ends, folded lines, control characters", () => {
    const bad = [
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
    ];
    for (const wire of bad) expect(() => parse(wire), JSON.stringify(wire)).toThrow(ResponseParseError);
  });

  it("refuses a bad status line, an unasked-for protocol switch and bad chunk framing", () => {
    for (const wire of ["HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n"]) {
      expect(() => parse(wire), wire).toThrow(/status line/);
    }
    expect(() => parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")).toThrow(/101/);
    const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(() => parse(`${chunked}zz\r\n`)).toThrow(/chunk size/);
    expect(() => parse(`${chunked}2\r\nokX\r\n`)).toThrow(/longer than its declared size/);
    expect(() => parse(`${chunked}2\nok\r\n`)).toThrow(/bare LF/);
    expect(() => parse(`${chunked}${"1".repeat(2_000)}`)).toThrow(/too long/);
  });

  it("bounds the head: a backend that never ends it cannot grow the proxy's memory", () => {
    expect(() => parse(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(2_000)}`, { maxHead: 1_024 })).toThrow(/larger than 1024/);
    expect(() => parse(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(2_000)}\r\n\r\n`, { maxHead: 1_024 })).toThrow(/larger than 1024/);
    expect(() => parse(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(2_000)}`, { maxHead: 1_024, cuts: [10, 500, 1_500] })).toThrow(/larger than 1024/);
  });

  it("reports a response cut short by the close as incomplete", () => {
    const parser = new ResponseParser();
    parser.start({ onHead: () => undefined, onBody: () => undefined, onComplete: () => undefined }, false);
    parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
    expect(parser.finish()).toBe(false);
    expect(parser.busy).toBe(true);
  });
});
