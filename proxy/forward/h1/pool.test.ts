import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UpstreamError, UpstreamPool, type UpstreamConnection, type UpstreamExchange } from "./pool.js";

/** A scripted backend: answers each request head it reads with `answer(socket, n)` (n counts per connection) */
async function backend(answer: (socket: Socket, n: number, head: string) => void): Promise<{ server: Server; address: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let n = 0;
    let buffered = "";
    socket.on("error", () => undefined);
    socket.on("data", (data) => {
      buffered += data.toString("latin1");
      let end: number;
      while ((end = buffered.indexOf("\r\n\r\n")) !== -1) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        answer(socket, n++, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

interface Outcome {
  status: number;
  body: string;
  error: UpstreamError | undefined;
}

/** One GET through the pool; resolves when the exchange ends */
function get(pool: UpstreamPool, path = "/", timeoutMs = 2_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, body: "", error: undefined };
    let conn: UpstreamConnection | undefined;
    const exchange: UpstreamExchange = {
      attach(c) {
        conn = c;
        c.write(`GET ${path} HTTP/1.1\r\nhost: test\r\n\r\n`, "latin1");
        c.requestWritten();
      },
      onHead(status) {
        out.status = status;
      },
      onBody(chunk) {
        out.body += chunk.toString();
      },
      afterRead() {},
      onComplete() {
        resolve(out);
      },
      onError(err) {
        out.error = err;
        resolve(out);
      },
    };
    void conn;
    pool.dispatch(exchange, false, timeoutMs);
  });
}

const ok = (socket: Socket, body = "ok", extra = ""): boolean => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`);

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});
function track<T extends { close(): unknown }>(x: T): T {
  cleanup.push(() => void x.close());
  return x;
}

describe("UpstreamPool", () => {
  it("carries sequential exchanges on one keep-alive connection", async () => {
    const b = await backend((s, n) => ok(s, `r${n}`));
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 4, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    for (let i = 0; i < 5; i++) expect(await get(pool)).toMatchObject({ status: 200, body: `r${i}` });
    expect(b.connections()).toBe(1);
    expect(pool.idleConnections).toBe(1);
  });

  it("never opens more than maxConnections: further exchanges wait for a free one, in order", async () => {
    const pending: Socket[] = [];
    const b = await backend((s) => pending.push(s));
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 2, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    const results = [get(pool, "/1"), get(pool, "/2"), get(pool, "/3")];
    await expect.poll(() => pending.length).toBe(2);
    expect(pool.queued).toBe(1);
    ok(pending.shift()!, "first");
    await expect.poll(() => pending.length).toBe(2); // the freed connection took the waiting exchange
    for (const s of pending.splice(0)) ok(s, "later");
    expect((await Promise.all(results)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(b.connections()).toBe(2);
  });

  it("does not reuse a connection the backend said to close, nor one it closed while idle", async () => {
    let answered = 0;
    const b = await backend((s) => (answered++ === 0 ? ok(s, "bye", "connection: close\r\n") : ok(s)));
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 4, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    expect(await get(pool)).toMatchObject({ body: "bye" });
    expect(await get(pool)).toMatchObject({ body: "ok" });
    expect(b.connections()).toBe(2);

    // The backend closes its idle side: the pool forgets the connection instead of sending into it
    const closer = await backend((s) => {
      ok(s);
      setTimeout(() => s.end(), 20);
    });
    track(closer.server);
    const pool2 = track(new UpstreamPool({ address: closer.address, maxConnections: 4, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    expect((await get(pool2)).status).toBe(200);
    await expect.poll(() => pool2.connections).toBe(0);
    expect((await get(pool2)).status).toBe(200);
  });

  it("never hands a backend's extra answer to the next exchange: a connection that said too much is dropped", async () => {
    let answered = 0;
    const b = await backend((s) => {
      // The first answer comes with a second, unasked-for one in the same write
      if (answered++ === 0) s.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged");
      else ok(s, "second");
    });
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 1, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    const first = get(pool, "/1");
    const second = get(pool, "/2"); // waits for the only connection
    expect(await first).toMatchObject({ body: "first" });
    expect(await second).toMatchObject({ status: 200, body: "second" });
    expect(b.connections()).toBe(2);
  });

  it("closes idle connections after the idle timeout, or the backend's Keep-Alive timeout less a second", async () => {
    const b = await backend((s) => ok(s, "ok", "keep-alive: timeout=1\r\n"));
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 4, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    expect((await get(pool)).status).toBe(200);
    // timeout=1 s from the backend leaves no safe idle time: closed at once rather than raced
    expect(pool.connections).toBe(0);

    const quiet = await backend((s) => ok(s));
    track(quiet.server);
    const pool2 = track(new UpstreamPool({ address: quiet.address, maxConnections: 4, connectTimeoutMs: 1_000, idleTimeoutMs: 300 }));
    expect((await get(pool2)).status).toBe(200);
    expect(pool2.connections).toBe(1);
    await expect.poll(() => pool2.connections, { timeout: 2_000 }).toBe(0);
  });

  it("reports a refused connection as a failure before connecting (safe to retry elsewhere)", async () => {
    const b = await backend(() => undefined);
    const address = b.address;
    await new Promise((r) => b.server.close(r));
    const pool = track(new UpstreamPool({ address, maxConnections: 1, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    const r = await get(pool);
    expect(r.error).toBeInstanceOf(UpstreamError);
    expect(r.error?.beforeConnect).toBe(true);
    expect(r.error?.syscall).toBe("connect");
  });

  it("times out a backend that does not answer, and one that stalls mid-body", async () => {
    const b = await backend(() => undefined);
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 2, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    const silent = await get(pool, "/", 150);
    expect(silent.error?.code).toBe("TM_UPSTREAM_HEADERS_TIMEOUT");
    expect(pool.connections).toBe(0);

    const staller = await backend((s) => s.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"));
    track(staller.server);
    const pool2 = track(new UpstreamPool({ address: staller.address, maxConnections: 2, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    const stalled = await get(pool2, "/", 150);
    expect(stalled.error?.code).toBe("TM_UPSTREAM_BODY_TIMEOUT");
    expect(stalled.body).toBe("abc");
  });

  it("fails the exchange on a malformed response and a response cut short, and drops the connection", async () => {
    const b = await backend((s, n) => (n === 0 ? s.write("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx") : undefined));
    track(b.server);
    const pool = track(new UpstreamPool({ address: b.address, maxConnections: 2, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    expect((await get(pool)).error?.code).toBe("TM_UPSTREAM_MALFORMED_RESPONSE");
    expect(pool.connections).toBe(0);

    const cutter = await backend((s) => s.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"));
    track(cutter.server);
    const pool2 = track(new UpstreamPool({ address: cutter.address, maxConnections: 2, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 }));
    const cut = await get(pool2);
    expect(cut.error?.code).toBe("TM_UPSTREAM_CLOSED");
    expect(cut.error?.beforeConnect).toBe(false);
  });

  it("fails waiting and running exchanges when closed", async () => {
    const b = await backend(() => undefined);
    track(b.server);
    const pool = new UpstreamPool({ address: b.address, maxConnections: 1, connectTimeoutMs: 1_000, idleTimeoutMs: 4_000 });
    const running = get(pool);
    const waiting = get(pool);
    await expect.poll(() => pool.queued).toBe(1);
    pool.close();
    expect((await waiting).error?.code).toBe("TM_UPSTREAM_CLOSED");
    expect((await running).error).toBeInstanceOf(UpstreamError);
    expect((await get(pool)).error?.code).toBe("TM_UPSTREAM_CLOSED");
  });
});
