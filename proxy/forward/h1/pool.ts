import { connect, type Socket } from "node:net";
import { ResponseParser, type ResponseEvents } from "./response-parser.js";

/**
 * What an exchange on an upstream connection is told. The connection calls exactly one of `onComplete` or
 * `onError` at the end, after which it belongs to the pool again (or is gone).
 */
export interface UpstreamExchange extends ResponseEvents {
  /** The connection is assigned: write the request now (`conn.write`) */
  attach(conn: UpstreamConnection): void;
  /** Called after each read from the socket was parsed, while the exchange is still running */
  afterRead(): void;
  /** The exchange failed: connect failure, reset, timeout or a malformed response (see `UpstreamError`) */
  onError(err: UpstreamError): void;
}

export type UpstreamErrorCode =
  | "TM_UPSTREAM_CONNECT_TIMEOUT"
  | "TM_UPSTREAM_HEADERS_TIMEOUT"
  | "TM_UPSTREAM_BODY_TIMEOUT"
  | "TM_UPSTREAM_CLOSED"
  | "TM_UPSTREAM_MALFORMED_RESPONSE"
  | "TM_UPSTREAM_SOCKET";

/** A failed upstream exchange; `syscall: "connect"` (from the socket error) marks a failure before any byte was sent */
export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode | string,
    message: string,
    /** True when the connection was never established: nothing of the request reached the backend */
    readonly beforeConnect: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UpstreamError";
  }

  /** classifyUpstreamError reads `syscall` to tell connect failures apart */
  get syscall(): string | undefined {
    return this.beforeConnect ? "connect" : undefined;
  }
}

export interface UpstreamPoolOptions {
  /** host:port */
  readonly address: string;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (or the backend's own `Keep-Alive: timeout` less 1 s) */
  readonly idleTimeoutMs: number;
  readonly maxResponseHeadBytes?: number;
}

/**
 * One keep-alive HTTP/1.1 connection to a backend, carrying one exchange at a time (no pipelining). The
 * response side is a `ResponseParser` fed straight from the socket's reads; one timer per connection serves
 * as the connect, headers and body timeout (refreshed, never re-created, while the timeout stays the same).
 */
export class UpstreamConnection {
  readonly socket: Socket;
  private readonly parser: ResponseParser;
  private exchange: UpstreamExchange | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  private connected = false;
  /** Whether it carried an exchange before the current one (a reused keep-alive connection may be stale) */
  reused = false;
  /** The request side is fully written (the connection can be reused only then) */
  requestDone = true;
  /** performance.now() when it went idle */
  idleSince = 0;
  idleTimeoutMs: number;
  private dead = false;

  constructor(private readonly pool: UpstreamPool, host: string, port: number) {
    this.parser = new ResponseParser(pool.options.maxResponseHeadBytes);
    this.idleTimeoutMs = pool.options.idleTimeoutMs;
    const socket = connect({ host, port, noDelay: true });
    this.socket = socket;
    socket.on("connect", () => {
      this.connected = true;
      // The exchange's own timeout takes over from the connect timeout
      if (this.exchange !== undefined) this.armTimer(this.responseTimeoutMs);
    });
    socket.on("data", (data: Buffer) => this.onData(data));
    socket.on("end", () => this.onEnd());
    socket.on("error", (err: Error & { code?: string; syscall?: string }) => this.fail(new UpstreamError(err.code ?? "TM_UPSTREAM_SOCKET", err.message, !this.connected, { cause: err })));
    socket.on("close", () => this.onClose());
  }

  /** The exchange's headers/body timeout in milliseconds (0: none) */
  responseTimeoutMs = 0;

  get isConnected(): boolean {
    return this.connected;
  }

  get destroyed(): boolean {
    return this.dead;
  }

  /** Starts an exchange: the parser expects its response; `write` sends the request */
  begin(exchange: UpstreamExchange, headRequest: boolean, timeoutMs: number): void {
    this.exchange = exchange;
    this.responseTimeoutMs = timeoutMs;
    this.requestDone = false;
    this.parser.start(this, headRequest);
    if (this.connected) this.armTimer(timeoutMs);
    else this.armTimer(this.pool.options.connectTimeoutMs);
    exchange.attach(this);
  }

  write(data: string | Buffer, encoding?: BufferEncoding): boolean {
    return encoding === undefined ? this.socket.write(data) : this.socket.write(data, encoding);
  }

  /** Ends the exchange from the request side (the client went away, or its body broke a limit): the connection is cut */
  abort(): void {
    this.exchange = undefined;
    this.destroy();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.clearTimer();
    this.socket.destroy();
    this.pool.forget(this);
  }

  /** Idle connection check by the pool's sweep; returns true when it closed the connection */
  closeIfIdleSince(now: number): boolean {
    if (this.exchange !== undefined || now - this.idleSince < this.idleTimeoutMs) return false;
    this.destroy();
    return true;
  }

  // ResponseEvents, relayed to the exchange

  onHead(status: number, headers: string[]): void {
    this.exchange!.onHead(status, headers);
  }

  onBody(chunk: Buffer): void {
    if (this.timerMs > 0) this.timer?.refresh();
    this.exchange!.onBody(chunk);
  }

  onComplete(): void {
    const exchange = this.exchange!;
    this.exchange = undefined;
    // The timer is left to run out (it finds no exchange): refreshing it for the next one is cheaper than a new one
    exchange.onComplete();
    this.release();
  }

  /** The request side finished writing; returns the connection to the pool if the response is done too */
  requestWritten(): void {
    this.requestDone = true;
    if (this.exchange === undefined && !this.parser.busy) this.release();
  }

  private release(): void {
    if (this.dead || !this.requestDone || this.exchange !== undefined) return;
    if (!this.parser.keepAlive || this.parser.excess) {
      this.destroy();
      return;
    }
    const hint = this.parser.keepAliveHintMs;
    this.idleTimeoutMs = hint !== undefined ? Math.max(0, Math.min(this.pool.options.idleTimeoutMs, hint - 1_000)) : this.pool.options.idleTimeoutMs;
    if (this.idleTimeoutMs === 0) {
      this.destroy();
      return;
    }
    this.reused = true;
    this.pool.release(this);
  }

  private onData(data: Buffer): void {
    if (this.exchange === undefined) {
      // Bytes nobody asked for (on an idle connection, or after an aborted exchange): the connection is unusable
      this.destroy();
      return;
    }
    try {
      this.parser.execute(data);
    } catch (err) {
      this.fail(new UpstreamError("TM_UPSTREAM_MALFORMED_RESPONSE", (err as Error).message, false, { cause: err }));
      return;
    }
    this.exchange?.afterRead();
  }

  private onEnd(): void {
    if (this.exchange !== undefined && this.parser.finish()) return; // a body delimited by the close: complete
    this.fail(new UpstreamError("TM_UPSTREAM_CLOSED", "the backend closed the connection", !this.connected));
  }

  private onClose(): void {
    this.fail(new UpstreamError("TM_UPSTREAM_CLOSED", "the backend connection closed", !this.connected));
  }

  private fail(err: UpstreamError): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.destroy();
    exchange?.onError(err);
  }

  private onTimer = (): void => {
    if (this.exchange === undefined) return;
    if (!this.connected) this.fail(new UpstreamError("TM_UPSTREAM_CONNECT_TIMEOUT", "connecting to the backend timed out", true));
    else if (this.parser.headReceived) this.fail(new UpstreamError("TM_UPSTREAM_BODY_TIMEOUT", "the backend stopped sending the response body", false));
    else this.fail(new UpstreamError("TM_UPSTREAM_HEADERS_TIMEOUT", "the backend did not answer in time", false));
  };

  private armTimer(ms: number): void {
    if (ms <= 0) {
      this.clearTimer();
      return;
    }
    if (this.timer !== undefined && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimer, ms);
    // The socket keeps the process alive while an exchange is in flight; the timer must not keep it alive after
    this.timer.unref();
    this.timerMs = ms;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerMs = 0;
    }
  }
}

/**
 * Keep-alive connections to one backend: idle ones are reused most-recently-used first (warm sockets), new
 * ones opened up to `maxConnections`, and beyond that exchanges wait in FIFO order for the next free one. Idle
 * connections are closed after their idle timeout by one sweep timer per pool, and at once when the backend
 * closes them.
 */
export class UpstreamPool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private readonly waiting: Array<{ exchange: UpstreamExchange; headRequest: boolean; timeoutMs: number; since: number }> = [];
  private readonly host: string;
  private readonly port: number;
  private sweep: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly options: UpstreamPoolOptions) {
    const colon = options.address.lastIndexOf(":");
    this.host = options.address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    this.port = Number(options.address.slice(colon + 1));
  }

  get connections(): number {
    return this.all.size;
  }

  get idleConnections(): number {
    return this.idle.length;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get destroyed(): boolean {
    return this.closed;
  }

  /** Runs `exchange` on a connection now, or when one is free; the exchange's `attach` is called then */
  dispatch(exchange: UpstreamExchange, headRequest: boolean, timeoutMs: number): void {
    if (this.closed) {
      exchange.onError(new UpstreamError("TM_UPSTREAM_CLOSED", "the forwarder is closed", true));
      return;
    }
    const conn = this.idle.pop();
    if (conn !== undefined) {
      conn.begin(exchange, headRequest, timeoutMs);
      return;
    }
    if (this.all.size < this.options.maxConnections) {
      const fresh = new UpstreamConnection(this, this.host, this.port);
      this.all.add(fresh);
      this.startSweep();
      fresh.begin(exchange, headRequest, timeoutMs);
      return;
    }
    this.waiting.push({ exchange, headRequest, timeoutMs, since: performance.now() });
  }

  /** Withdraws an exchange still waiting for a connection; false when it already has one */
  cancel(exchange: UpstreamExchange): boolean {
    const i = this.waiting.findIndex((w) => w.exchange === exchange);
    if (i === -1) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** A connection finished its exchange and may be reused */
  release(conn: UpstreamConnection): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      conn.begin(next.exchange, next.headRequest, next.timeoutMs);
      return;
    }
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }

  /** A connection is gone; a waiting exchange gets a new one in its place */
  forget(conn: UpstreamConnection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.waiting.length > 0 && !this.closed) {
      const next = this.waiting.shift()!;
      // Deferred: forget runs inside the failing connection's handlers
      queueMicrotask(() => (this.closed ? next.exchange.onError(new UpstreamError("TM_UPSTREAM_CLOSED", "the forwarder is closed", true)) : this.dispatch(next.exchange, next.headRequest, next.timeoutMs)));
    }
  }

  /** Closes every connection; exchanges in flight or waiting fail */
  close(): void {
    this.closed = true;
    if (this.sweep !== undefined) clearInterval(this.sweep);
    const waiting = this.waiting.splice(0);
    for (const conn of [...this.all]) conn.destroy();
    for (const w of waiting) w.exchange.onError(new UpstreamError("TM_UPSTREAM_CLOSED", "the forwarder is closed", true));
  }

  private startSweep(): void {
    if (this.sweep !== undefined) return;
    const every = Math.max(100, Math.min(1_000, this.options.idleTimeoutMs / 4));
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (let i = this.idle.length - 1; i >= 0; i--) this.idle[i]!.closeIfIdleSince(now);
      // The wait for a free connection counts against the exchange's timeout (checked at the sweep's period)
      for (let i = this.waiting.length - 1; i >= 0; i--) {
        const w = this.waiting[i]!;
        if (w.timeoutMs > 0 && now - w.since >= w.timeoutMs) {
          this.waiting.splice(i, 1);
          w.exchange.onError(new UpstreamError("TM_UPSTREAM_HEADERS_TIMEOUT", "no connection to the backend became free in time", true));
        }
      }
    }, every);
    this.sweep.unref();
  }
}
