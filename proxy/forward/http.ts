import type { TenantMeshError } from "../../src/errors/index.js";
import { normalizePath } from "../config/routes.js";
import type { HttpRequestSide, HttpResponseSide, ProxyContext } from "../context.js";
import type { StageResult } from "../pipeline/stage.js";
import type { Backend } from "../upstream/backend.js";
import { classifyUpstreamError, payloadTooLarge, type UpstreamFailure } from "./errors.js";
import { UpstreamError, UpstreamPool, type UpstreamConnection, type UpstreamExchange } from "./h1/pool.js";
import { hopByHopResponse, upstreamHttpHeadLines, type IdentitySigning } from "./headers.js";

export interface HttpForwarderOptions {
  readonly signing: IdentitySigning;
  /** Largest request body forwarded; counted while it streams (a Content-Length above it is refused earlier) */
  readonly maxBodyBytes: number;
  /** Upstream timeout for a tenant without `maxResponseTimeMs` */
  readonly defaultTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Keep-alive connections per backend at most; the backend's capacity bounds it too (pipelining is off) */
  readonly maxConnectionsPerBackend: number;
  /** An idle upstream connection is closed after this (default 4 s, under Node's 5 s server keep-alive) */
  readonly idleTimeoutMs?: number;
}

const idempotent: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const hopByHop: ReadonlySet<string> = new Set(hopByHopResponse);

/**
 * Forwards HTTP/1.1 requests over the proxy's own keep-alive connection pools (h1/pool.ts), one per backend, no
 * pipelining. Chosen by measurement (docs/proxy-performance.md): a bare forwarder of this design (raw upstream
 * sockets, a hand-written response parser) cost about 31 µs of proxy CPU per request where a bare undici-Pool
 * forwarder cost 51–55 µs and a bare http-proxy 106–114 µs: nothing sits between the socket and the response but
 * the parser, with no per-request ClientRequest/IncomingMessage pair and no stream machinery. http-proxy stays
 * for WebSocket upgrades only.
 *
 * The request head is written in one `write`; the response head and a body that came with it go to the client
 * in one `writeHead` + `end`. Streaming both ways with backpressure; hop-by-hop headers dropped; the tenant's
 * `maxResponseTimeMs` bounds the wait for the response head and each gap in its body (504 /
 * TM_ERR_DEADLINE_EXCEEDED). A client that goes away cuts the upstream connection, which ends the exchange
 * and so frees the backend slot.
 */
export class HttpForwarder {
  private readonly pools = new Map<string, UpstreamPool>();

  constructor(private readonly options: HttpForwarderOptions) {}

  forward(ctx: ProxyContext): Promise<StageResult> {
    const exchange = ctx.exchange;
    const backend = ctx.backend;
    if (exchange.kind !== "http" || backend === undefined || ctx.tenant === undefined) throw new Error("HTTP forward needs an HTTP exchange and a backend");
    const { req, res } = exchange;
    const timeout = ctx.tenant.maxResponseTimeMs > 0 ? ctx.tenant.maxResponseTimeMs : this.options.defaultTimeoutMs;
    const pool = this.pool(backend);
    return new Promise((resolve) => {
      const relay = new HttpRelay(ctx, backend, req, res, pool, this.options, resolve);
      pool.dispatch(relay, ctx.method === "HEAD", timeout);
    });
  }

  /** Closes every pool; requests in flight are aborted */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    for (const p of pools) p.close();
  }

  private pool(backend: Backend): UpstreamPool {
    const key = backend.address;
    let pool = this.pools.get(key);
    if (pool === undefined || pool.destroyed) {
      pool = new UpstreamPool({
        address: backend.address,
        maxConnections: Math.max(1, Math.min(backend.capacity, this.options.maxConnectionsPerBackend)),
        connectTimeoutMs: this.options.connectTimeoutMs,
        // Below Node's default server keepAliveTimeout (5 s), so the proxy closes idle sockets before a backend
        // does and rarely sends into a socket the backend is closing (a backend's `Keep-Alive: timeout` counts too)
        idleTimeoutMs: this.options.idleTimeoutMs ?? 4_000,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

type Finish = "success" | "http_5xx" | "connect_failure" | "timeout" | "reset" | undefined;

/** One request's exchange on an upstream connection: writes the request, relays the response to the client */
class HttpRelay implements UpstreamExchange {
  private conn: UpstreamConnection | undefined;
  private done = false;
  private status = 0;
  private headers: string[] | undefined;
  private headWritten = false;
  /** A body chunk that arrived with the head, held so head and body leave in one write */
  private held: Buffer | undefined;
  /** Some of the client's body was read (a failed attempt can then not be replayed) */
  private bodyRead = false;
  private bodyBytes = 0;
  /** Stops reading the client's body (set while it is being sent upstream) */
  private stopBody: (() => void) | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly backend: Backend,
    private readonly req: HttpRequestSide,
    private readonly res: HttpResponseSide,
    private readonly pool: UpstreamPool,
    private readonly options: HttpForwarderOptions,
    private readonly resolve: (result: StageResult) => void,
  ) {
    (res as RelayedResponse)[relayOf] = this;
    res.on("close", onResponseClose);
  }

  /** The client's connection closed (shared 'close' listener): before the response ended, that is a cancel */
  clientClosed(): void {
    if (this.done || this.res.writableFinished) return;
    this.ctx.outcome = "cancelled";
    if (this.conn !== undefined) this.conn.abort();
    else this.pool.cancel(this);
    this.finish(undefined, undefined);
  }

  /** The client's socket drained: read from the backend again */
  drained(): void {
    this.res.removeListener("drain", onResponseDrain);
    this.conn?.socket.resume();
  }

  /** The client cannot take more now: stop reading from the backend until it drains */
  private backOff(): void {
    this.conn?.socket.pause();
    this.res.on("drain", onResponseDrain);
  }

  attach(conn: UpstreamConnection): void {
    this.conn = conn;
    const req = this.req;
    const chunked = req.headers["content-length"] === undefined && req.headers["transfer-encoding"] !== undefined;
    const lines = upstreamHttpHeadLines(this.ctx, this.options.signing, this.backend.address);
    conn.write(`${this.ctx.method} ${upstreamPath(this.ctx.path)} HTTP/1.1\r\n${lines}${chunked ? "transfer-encoding: chunked\r\n" : ""}\r\n`, "latin1");
    if (isBodyless(req)) {
      conn.requestWritten();
      return;
    }
    // The body is read only once the connection is up: a connect failure leaves it unread, and the request
    // may then be retried on another backend
    if (conn.isConnected) this.pumpBody(conn, chunked);
    else conn.socket.once("connect", () => this.pumpBody(conn, chunked));
  }

  private pumpBody(conn: UpstreamConnection, chunked: boolean): void {
    if (this.done || this.conn !== conn) return;
    const req = this.req;
    const max = this.options.maxBodyBytes;
    const resume = (): void => {
      req.resume();
    };
    const onData = (chunk: Buffer): void => {
      this.bodyRead = true;
      this.bodyBytes += chunk.length;
      if (chunked && this.bodyBytes > max) {
        stop();
        conn.abort();
        this.finish(undefined, payloadTooLarge(max));
        return;
      }
      const ok = chunked ? conn.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, "latin1"), chunk, CRLF])) : conn.write(chunk);
      if (!ok) {
        req.pause();
        conn.socket.once("drain", resume);
      }
    };
    const onEnd = (): void => {
      stop();
      if (chunked) conn.write("0\r\n\r\n", "latin1");
      conn.requestWritten();
    };
    const stop = (): void => {
      this.stopBody = undefined;
      req.removeListener("data", onData);
      req.removeListener("end", onEnd);
      conn.socket.removeListener("drain", resume);
    };
    this.stopBody = stop;
    req.on("data", onData);
    req.once("end", onEnd);
  }

  onHead(status: number, headers: string[]): void {
    this.status = status;
    this.headers = headers;
    this.ctx.status = status;
    this.ctx.timings.responseStart = performance.now();
  }

  onBody(chunk: Buffer): void {
    if (!this.headWritten) {
      if (this.held === undefined) {
        this.held = chunk;
        return;
      }
      if (!this.writeHead()) return;
      const held = this.held;
      this.held = undefined;
      this.res.write(held);
    }
    if (!this.res.write(chunk)) this.backOff();
  }

  afterRead(): void {
    // The response goes on past this read: send what is held rather than wait for the rest
    if (this.headers === undefined || this.done) return;
    if (!this.headWritten && !this.writeHead()) return;
    const held = this.held;
    if (held !== undefined) {
      this.held = undefined;
      if (!this.res.write(held)) this.backOff();
    }
  }

  onComplete(): void {
    if (this.done) return;
    if (!this.headWritten && !this.writeHead()) return;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) this.res.end(held);
    else this.res.end();
    // A response that ends before the client's body has all been sent leaves that body behind: the upstream
    // connection cannot carry another exchange
    if (!this.conn!.requestDone) this.conn!.abort();
    this.finish(this.status >= 500 ? "http_5xx" : "success", undefined);
  }

  onError(err: UpstreamError): void {
    if (this.done) return;
    if (this.res.destroyed) {
      this.ctx.outcome = "cancelled";
      this.finish(undefined, undefined);
      return;
    }
    const headReceived = this.headers !== undefined;
    const failure: UpstreamFailure = classifyUpstreamError(err, headReceived);
    // Safe to send again elsewhere: nothing reached the backend (connect failure, body untouched), or an
    // idempotent body-less request died before any of its response
    const untouchedBody = !this.bodyRead && !this.req.destroyed;
    this.ctx.retryable =
      !headReceived &&
      ((failure.outcome === "connect_failure" && untouchedBody) || (failure.outcome === "reset" && idempotent.has(this.ctx.method) && isBodyless(this.req)));
    // A head that was parsed but not yet passed on: the client gets the failure, not half a response
    this.finish(failure.outcome, failure.error);
  }

  /** Sends the response head (hop-by-hop fields dropped); false when Node refused it and the exchange failed */
  private writeHead(): boolean {
    this.headWritten = true;
    const headers = this.headers!;
    let extra: Set<string> | undefined;
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (hopByHop.has(name)) {
        if (name === "connection") extra = connectionTokens(headers[i + 1]!, extra);
        continue;
      }
      out.push(name, headers[i + 1]!);
    }
    try {
      if (extra === undefined) this.res.writeHead(this.status, out);
      else {
        const kept: string[] = [];
        for (let i = 0; i < out.length; i += 2) if (!extra.has(out[i]!)) kept.push(out[i]!, out[i + 1]!);
        this.res.writeHead(this.status, kept);
      }
      return true;
    } catch (err) {
      // A header Node refuses to send: the response cannot be relayed
      this.conn?.abort();
      this.onError(new UpstreamError("TM_UPSTREAM_MALFORMED_RESPONSE", `a response header could not be relayed: ${(err as Error).message}`, false, { cause: err }));
      return false;
    }
  }

  private finish(outcome: Finish, error: TenantMeshError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.stopBody?.();
    this.res.removeListener("close", onResponseClose);
    this.res.removeListener("drain", onResponseDrain);
    (this.res as RelayedResponse)[relayOf] = undefined;
    if (outcome !== undefined) {
      this.ctx.outcome = outcome;
      this.ctx.route?.cluster.recordOutcome(this.backend, outcome, Date.now());
    }
    this.resolve(error);
  }
}

const CRLF = Buffer.from("\r\n", "latin1");

/**
 * The relay of a response, kept on the response itself, so that one shared listener function serves every
 * request's 'close' and 'drain' (a closure per request and listener showed in profiles)
 */
const relayOf = Symbol("tenantmesh.relay");
type RelayedResponse = HttpResponseSide & { [relayOf]?: HttpRelay | undefined };
function onResponseClose(this: RelayedResponse): void {
  this[relayOf]?.clientClosed();
}
function onResponseDrain(this: RelayedResponse): void {
  this[relayOf]?.drained();
}

/** Header names a `Connection` field lists besides close/keep-alive: they are hop-by-hop too */
function connectionTokens(value: string, into: Set<string> | undefined): Set<string> | undefined {
  for (const t of value.split(",")) {
    const name = t.trim().toLowerCase();
    if (name !== "" && name !== "close" && name !== "keep-alive") (into ??= new Set()).add(name);
  }
  return into;
}

function isBodyless(req: HttpRequestSide): boolean {
  const length = req.headers["content-length"];
  return length === undefined ? req.headers["transfer-encoding"] === undefined : length === "0";
}

/** Paths that routing would read differently from a backend (`%`-escapes, dot or empty segments) go out normalised */
function upstreamPath(path: string): string {
  if (!/%|\/\.|\/\//.test(path)) return path;
  const q = path.indexOf("?");
  return q === -1 ? normalizePath(path) : normalizePath(path.slice(0, q)) + path.slice(q);
}
