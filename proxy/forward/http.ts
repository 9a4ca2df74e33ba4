import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Pool, type Dispatcher } from "undici";
import { TenantMeshError } from "../../src/errors/index.js";
import { normalizePath } from "../config/routes.js";
import type { ProxyContext } from "../context.js";
import type { StageResult } from "../pipeline/stage.js";
import type { Backend } from "../upstream/backend.js";
import { classifyUpstreamError, payloadTooLarge, PayloadTooLargeError, type UpstreamFailure } from "./errors.js";
import { hopByHopResponse, upstreamHttpHeaders, type IdentitySigning } from "./headers.js";

export interface HttpForwarderOptions {
  readonly signing: IdentitySigning;
  /** Largest request body forwarded; counted while it streams (a Content-Length above it is refused earlier) */
  readonly maxBodyBytes: number;
  /** Upstream timeout for a tenant without `maxResponseTimeMs` */
  readonly defaultTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Keep-alive connections per backend at most; the backend's capacity bounds it too (pipelining is off) */
  readonly maxConnectionsPerBackend: number;
}

const idempotent: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/**
 * Forwards HTTP/1.1 requests over undici connection pools, one per backend (keep-alive, no pipelining). Chosen
 * by measurement (bench/overhead.bench.ts, same backend, same runs): a bare undici-Pool forwarder used about
 * 38–40 µs of proxy CPU per request where a bare http-proxy with a keep-alive agent used 57–63 µs, because
 * undici's dispatch API hands over parsed headers and chunks without a per-request ClientRequest /
 * IncomingMessage pair and their stream machinery. http-proxy stays for WebSocket upgrades only.
 *
 * Streaming both ways with backpressure; hop-by-hop headers dropped; the tenant's `maxResponseTimeMs` bounds
 * the wait for response headers and each gap in the body (504 / TM_ERR_DEADLINE_EXCEEDED). A client that goes
 * away aborts the upstream request, which ends the exchange and so frees the backend slot.
 */
export class HttpForwarder {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: HttpForwarderOptions) {}

  forward(ctx: ProxyContext): Promise<StageResult> {
    const exchange = ctx.exchange;
    const backend = ctx.backend;
    if (exchange.kind !== "http" || backend === undefined || ctx.tenant === undefined) throw new Error("HTTP forward needs an HTTP exchange and a backend");
    const { req, res } = exchange;
    const timeout = ctx.tenant.maxResponseTimeMs > 0 ? ctx.tenant.maxResponseTimeMs : this.options.defaultTimeoutMs;
    return new Promise((resolve) => {
      const relay = new ResponseRelay(ctx, backend, req, res, resolve);
      this.pool(backend).dispatch(
        {
          path: upstreamPath(ctx.path),
          method: ctx.method,
          headers: upstreamHttpHeaders(ctx, this.options.signing),
          body: requestBody(req, this.options.maxBodyBytes),
          headersTimeout: timeout,
          bodyTimeout: timeout,
        } as Dispatcher.DispatchOptions,
        relay,
      );
    });
  }

  /** Closes every pool; requests in flight are aborted */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  private pool(backend: Backend): Pool {
    const key = backend.address;
    let pool = this.pools.get(key);
    if (pool === undefined || pool.destroyed) {
      pool = new Pool(`http://${backend.address}`, {
        connections: Math.min(backend.capacity, this.options.maxConnectionsPerBackend),
        pipelining: 1,
        connectTimeout: this.options.connectTimeoutMs,
        // Below Node's default server keepAliveTimeout (5 s), so the proxy closes idle sockets before a backend
        // does and rarely sends into a socket the backend is closing
        keepAliveTimeout: 4_000,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** Receives the upstream response through undici's dispatch handler and relays it to the client */
class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private done = false;
  private clientGone = false;
  private readonly onClientClose = (): void => {
    if (this.done || this.res.writableFinished) return;
    this.clientGone = true;
    this.controller?.abort(clientGone);
  };
  private readonly onDrain = (): void => this.controller?.resume();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly backend: Backend,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly resolve: (result: StageResult) => void,
  ) {
    res.once("close", this.onClientClose);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(clientGone);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx informational: the client's own 100-continue was answered by Node
    for (const name of hopByHopResponse) if (headers[name] !== undefined) delete headers[name];
    this.ctx.status = statusCode;
    this.ctx.timings.responseStart = performance.now();
    try {
      this.res.writeHead(statusCode, headers as OutgoingHttpHeaders);
    } catch (err) {
      // A header value Node refuses to send (e.g. a control character): the response cannot be relayed
      controller.abort(err as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once("drain", this.onDrain);
    }
  }

  onResponseEnd(): void {
    this.res.end();
    const status = this.ctx.status;
    this.finish(status >= 500 ? "http_5xx" : "success", undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.clientGone || err === clientGone) {
      this.ctx.outcome = "cancelled";
      this.finish(undefined, undefined);
      return;
    }
    if (err instanceof PayloadTooLargeError) {
      this.finish(undefined, payloadTooLarge(err.limit));
      return;
    }
    const failure: UpstreamFailure = classifyUpstreamError(err, this.ctx.timings.responseStart > 0);
    // Safe to send again elsewhere: nothing reached the backend (connect failure, body untouched), or an
    // idempotent body-less request died before any of its response
    const untouchedBody = !this.req.readableDidRead && !this.req.destroyed;
    this.ctx.retryable =
      this.ctx.timings.responseStart === 0 &&
      ((failure.outcome === "connect_failure" && untouchedBody) ||
        (failure.outcome === "reset" && idempotent.has(this.ctx.method) && isBodyless(this.req)));
    this.finish(failure.outcome, failure.error);
  }

  private finish(outcome: "success" | "http_5xx" | "connect_failure" | "timeout" | "reset" | undefined, error: TenantMeshError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.res.removeListener("close", this.onClientClose);
    this.res.removeListener("drain", this.onDrain);
    if (outcome !== undefined) {
      this.ctx.outcome = outcome;
      this.ctx.route?.cluster.recordOutcome(this.backend, outcome, Date.now());
    }
    this.resolve(error);
  }
}

const clientGone = new Error("the client closed the connection");

function isBodyless(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length === undefined ? req.headers["transfer-encoding"] === undefined : length === "0";
}

/**
 * The upstream request body: none, the client's stream as is when it has a Content-Length (the parser stops at
 * that length, and larger ones were refused before the pipeline), or a chunked body counted as it streams.
 * The generator reads nothing until undici starts sending, so a connect failure leaves the body unread and the
 * request retryable.
 */
function requestBody(req: IncomingMessage, maxBytes: number): IncomingMessage | AsyncIterable<Buffer> | null {
  if (isBodyless(req)) return null;
  if (req.headers["content-length"] !== undefined) return req;
  return (async function* counted(): AsyncGenerator<Buffer> {
    let seen = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > maxBytes) throw new PayloadTooLargeError(maxBytes);
      yield chunk;
    }
  })();
}

/** Paths that routing would read differently from a backend (`%`-escapes, dot or empty segments) go out normalised */
function upstreamPath(path: string): string {
  if (!/%|\/\.|\/\//.test(path)) return path;
  const q = path.indexOf("?");
  return q === -1 ? normalizePath(path) : normalizePath(path.slice(0, q)) + path.slice(q);
}
