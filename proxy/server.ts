import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../src/log/index.js";
import { FastH1Connection, type FastRequest, type FastResponse } from "./fast-h1.js";

/** Limits on what one client may cost the listener; every one of them is a defence against a hostile client */
export interface ServerLimits {
  /** Request line + headers of an HTTP/1.1 request, and the header list of an HTTP/2 stream (431 above) */
  readonly maxHeaderBytes: number;
  /** Time for a client to send complete request headers (HTTP/1.1), and to show it speaks HTTP at all */
  readonly headersTimeoutMs: number;
  /** Time for a client to send a complete HTTP/1.1 request, body included (0: none) */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive HTTP/1.1 connection is closed after this */
  readonly keepAliveTimeoutMs: number;
  /** A connection (or HTTP/2 session) with no traffic at all for this long is closed */
  readonly idleTimeoutMs: number;
  /** Concurrent streams per HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS) */
  readonly maxConcurrentStreams: number;
  /** HTTP/2 flow-control window per stream and per connection */
  readonly http2WindowBytes: number;
  /**
   * Serve plain body-less HTTP/1.1 requests on the fast path (fast-h1.ts) rather than through Node's HTTP
   * server (default true); anything else goes to Node's server either way
   */
  readonly fastHttp1?: boolean;
}

/** Where the listener hands requests; the pipeline's entry points implement it */
export interface ServerHandlers {
  http(req: IncomingMessage, res: ServerResponse): void;
  /** A request on the HTTP/1.1 fast path */
  fastHttp(req: FastRequest, res: FastResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  grpc(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void;
  /** Node's HTTP/1.1 parser refused a request (headers too large or too slow, malformed): answer on the raw socket */
  clientError(err: Error & { code?: string }, socket: Duplex): void;
}

/** The HTTP/2 connection preface every h2 client sends first (RFC 9113 §3.4) */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const noop = (): void => undefined;

/**
 * One port for both protocols: a TCP listener that reads the first bytes of each connection and hands it to an
 * h2c server when they are the HTTP/2 preface (gRPC), else to an HTTP/1.1 server. The sniffed bytes are put
 * back on the socket (`unshift`), so neither server notices. Socket errors are always listened for: a client
 * that resets its connection must never become an uncaught exception.
 */
export class ProxyServer {
  private readonly net = createNetServer({ noDelay: true }, (socket) => this.sniff(socket));
  private readonly h1;
  private readonly h2;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Http2Session>();
  private readonly fast = new Set<FastH1Connection>();
  private closing = false;
  private readonly fastHandlers;

  constructor(
    handlers: ServerHandlers,
    private readonly limits: ServerLimits,
    private readonly logger: Logger,
  ) {
    this.h1 = createHttpServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks header/request timeouts on this period (default 30 s): too coarse to stop slow clients
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      noDelay: true,
    });
    this.h1.timeout = limits.idleTimeoutMs;
    this.h1.on("request", handlers.http);
    this.h1.on("upgrade", handlers.upgrade);
    this.h1.on("clientError", handlers.clientError);

    this.h2 = createHttp2Server({
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderBytes,
        initialWindowSize: limits.http2WindowBytes,
        enablePush: false,
      },
      maxHeaderListPairs: 256,
    });
    this.h2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      // A stream error without a listener would throw; the handlers learn of resets through 'close'
      stream.on("error", noop);
      handlers.grpc(stream, headers);
    });
    this.h2.on("session", (session: Http2Session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
      session.on("error", (err) => this.logger.debug({ err }, "HTTP/2 session error"));
      session.setLocalWindowSize(limits.http2WindowBytes);
      session.setTimeout(limits.idleTimeoutMs, () => session.close());
    });
    this.h2.on("sessionError", (err) => this.logger.debug({ err }, "HTTP/2 session error"));

    this.fastHandlers = {
      request: handlers.fastHttp,
      handOff: (socket: Socket): void => {
        this.h1.emit("connection", socket);
        socket.resume();
      },
      timeout: (socket: Socket): void => handlers.clientError(Object.assign(new Error("request headers timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }), socket),
    };
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free one) */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.net.once("error", reject);
      // A deep accept queue (the kernel caps it at net.core.somaxconn): Node's default of 511 overflows when
      // a burst of new connections meets a busy event loop, and a dropped SYN costs the client a 1 s retransmit
      this.net.listen({ port, host, backlog: 4_096 }, () => {
        this.net.off("error", reject);
        // The HTTP/1.1 server never listens itself (connections are handed to it), but Node starts its
        // connection tracking — which enforces headersTimeout/requestTimeout and lets closeIdleConnections
        // work — on its 'listening' event
        this.h1.emit("listening");
        this.net.on("error", (err) => this.logger.error({ err }, "proxy listener error"));
        resolve(this.net.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | undefined {
    return (this.net.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts what is left. Idle
   * keep-alive connections and HTTP/2 sessions are told to go away at once.
   */
  async close(graceMs = 5_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    this.closing = true;
    this.h1.closeIdleConnections();
    for (const conn of this.fast) if (!conn.closeIfIdle()) conn.closeAfterResponse = true;
    for (const session of this.sessions) session.close();
    const deadline = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    const drained = (async () => {
      while (this.sockets.size > 0) await new Promise((r) => setTimeout(r, 20));
    })();
    await Promise.all([closed, drained]);
    clearTimeout(deadline);
    this.h1.closeAllConnections();
    // Stops the connection-checking timer; the server was never bound, so the close "error" is expected
    this.h1.close(() => undefined);
  }

  private startFast(socket: Socket): void {
    const conn = new FastH1Connection(socket, this.fastHandlers, this.limits);
    this.fast.add(conn);
    socket.once("close", () => this.fast.delete(conn));
    // The sniffed bytes were put back on the paused socket: resuming hands them to the connection's reader
    socket.resume();
  }

  private sniff(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", noop);
    let seen: Buffer | undefined;
    // A client that connects and says nothing (or dribbles the preface) is cut like a slow header sender
    const timer = setTimeout(() => socket.destroy(), this.limits.headersTimeoutMs);
    const onData = (chunk: Buffer): void => {
      seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const h2 = seen.compare(PREFACE, 0, n, 0, n) === 0;
      if (h2 && seen.length < PREFACE.length) return; // so far a prefix of the preface: wait for the rest
      socket.removeListener("data", onData);
      clearTimeout(timer);
      socket.pause();
      socket.unshift(seen);
      if (h2) {
        // The h2 session takes the bytes already buffered on the socket before reading from it
        this.h2.emit("connection", socket);
      } else if (this.limits.fastHttp1 !== false && !this.closing) {
        this.startFast(socket);
      } else {
        this.h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  }
}
